//! `cargo alloc-profile run`: one program (a bin or an example) through `cargo run`, which the
//! runner execs under the interposer.

use anyhow::Result;

use crate::cargo::{cargo_program, Workspace};
use crate::cli::RunArgs;
use crate::interrupt;
use crate::process::ProcessBuilder;
use crate::raw_dir::Collected;
use crate::session::cargo_run::{exit_code, program_status, run_cargo, Ended};
use crate::session::checks;
use crate::session::prepare::prepare;
use crate::session::report::{keep_last, report, Outcome};

/// `cargo alloc-profile run`.
pub fn run(args: RunArgs) -> Result<i32> {
    checks::before_work(&args.cargo, &args.report)?;
    let session = prepare(&args.cargo, &args.profiling, false)?;
    let mut cmd = ProcessBuilder::new(cargo_program());
    cmd.arg("run").args(args.cargo.to_cargo_args());
    if let Some(bin) = &args.bin {
        cmd.args(["--bin", bin]);
    }
    if let Some(example) = &args.example {
        cmd.args(["--example", example]);
    }
    if !args.args.is_empty() {
        cmd.arg("--").args(&args.args);
    }
    session.env.apply(&mut cmd);
    if args.cargo.verbose > 0 {
        eprintln!("     Running {cmd}");
    }
    let Ended {
        status,
        collected,
        interrupted,
    } = run_cargo(&session, &cmd, None)?;
    if collected.started.is_empty() {
        if interrupted {
            eprintln!(
                "error: interrupted (Ctrl-C) before the program started: nothing was profiled"
            );
            return Ok(interrupt::EXIT_STATUS);
        }
        // Cargo failed before running anything (build error, unknown target): its own message
        // is above; keep its exit status.
        eprintln!("error: nothing was profiled: cargo stopped before the program started");
        return Ok(exit_code(status));
    }
    let label = target_label(&session.ws, &args, &collected);
    let outcome = Outcome {
        command: std::env::args().collect(),
        label,
        status,
    };
    keep_last(&session.tool_dir, &collected, &outcome, None);
    let exceeded = report(&session.ws, &collected, &outcome, &args.report, None)?;
    Ok(program_status(status, interrupted, &collected, exceeded))
}

/// The report's name for what ran: the target and its source file.
fn target_label(ws: &Workspace, args: &RunArgs, collected: &Collected) -> String {
    let (name, kinds): (String, &[&str]) = if let Some(e) = &args.example {
        (e.clone(), &["example"])
    } else if let Some(b) = &args.bin {
        (b.clone(), &["bin"])
    } else {
        let exe = collected
            .started
            .first()
            .map(|s| s.exe.clone())
            .unwrap_or_default();
        (
            exe.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            &["bin"],
        )
    };
    match ws.target_source(&name, kinds) {
        Some(src) => format!("{name} ({})", src.display()),
        None => name,
    }
}
