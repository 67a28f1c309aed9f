//! One way to run every subprocess: a builder that can print itself (program, arguments, and the
//! environment we set), so that errors and `-v` output show exactly what was run. What Ctrl-C
//! does while they run is [`crate::interrupt`]'s.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::process::{Command, ExitStatus};

use anyhow::{Context as _, Result};

#[derive(Debug, Clone)]
pub struct ProcessBuilder {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(String, Option<OsString>)>,
}

impl ProcessBuilder {
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn arg(&mut self, arg: impl Into<OsString>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(&mut self, key: &str, value: impl Into<OsString>) -> &mut Self {
        self.env.push((key.to_owned(), Some(value.into())));
        self
    }

    pub fn env_remove(&mut self, key: &str) -> &mut Self {
        self.env.push((key.to_owned(), None));
        self
    }

    /// The command as it would run, for callers that need its streams.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Runs with inherited standard streams and waits.
    pub fn status(&self) -> Result<ExitStatus> {
        self.command()
            .status()
            .with_context(|| format!("could not run `{self}`"))
    }

    /// Runs capturing standard output; fails with the captured standard error when the program
    /// does not succeed.
    pub fn read(&self) -> Result<String> {
        let out = self
            .command()
            .output()
            .with_context(|| format!("could not run `{self}`"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            anyhow::bail!("`{self}` failed ({}): {}", out.status, stderr.trim());
        }
        String::from_utf8(out.stdout).with_context(|| format!("`{self}` printed non-UTF-8 output"))
    }
}

impl fmt::Display for ProcessBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.env {
            match value {
                Some(v) => write!(f, "{key}={} ", shell_word(&v.to_string_lossy()))?,
                None => write!(f, "-u {key} ")?,
            }
        }
        let program = Path::new(&self.program);
        write!(f, "{}", shell_word(&program.to_string_lossy()))?;
        for arg in &self.args {
            write!(f, " {}", shell_word(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
