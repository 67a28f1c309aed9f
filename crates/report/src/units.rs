//! How the reports write numbers: counts with thousands separators, bytes in binary units,
//! shares in percent, signed changes, and the size buckets of histograms. Every report (text,
//! JSON, HTML, the diff) and the advice's messages use these, so a figure reads the same
//! everywhere.

use alloc_profile_format::SIZE_BUCKETS;

/// `1842` → `1,842`.
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units with one decimal: `512 B`, `62.5 KiB`, `1.2 MiB`.
#[must_use]
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    // Integer arithmetic in tenths, so the result never depends on float rounding.
    let mut unit = 0;
    let mut scale: u128 = 1024;
    // Move up while the value would print as 1024.0 or more.
    while unit + 1 < UNITS.len() && (u128::from(n) * 10 + scale / 2) / scale >= 10240 {
        unit += 1;
        scale *= 1024;
    }
    let tenths = (u128::from(n) * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// `part` as a percentage of `whole` with one decimal; `<0.1%` for small non-zero shares.
#[must_use]
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    let tenths = (u128::from(part) * 1000 + u128::from(whole) / 2) / u128::from(whole);
    if tenths == 0 && part > 0 {
        return "<0.1%".to_owned();
    }
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// A change with its sign: `+3`, `0`, `-2`.
#[must_use]
pub fn signed(n: i128) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// Smallest and largest size of bucket `b` (see [`alloc_profile_format::size_bucket`]); the last
/// bucket has no upper end.
#[must_use]
pub fn bucket_range(b: usize) -> (u64, Option<u64>) {
    match b {
        0 => (0, Some(0)),
        _ if b >= SIZE_BUCKETS - 1 => (1 << (SIZE_BUCKETS - 2), None),
        _ => (1 << (b - 1), Some((1 << b) - 1)),
    }
}

/// A bucket as a size range: `32–63 B`, `1–2 KiB` (from 1 KiB up to, not including, 2 KiB).
#[must_use]
pub fn bucket_label(b: usize) -> String {
    let (min, max) = bucket_range(b);
    match max {
        Some(max) if max == min => format!("{min} B"),
        Some(max) if max < 1024 => format!("{min}–{max} B"),
        Some(max) => {
            let (lo, lo_unit) = power_of_two(min);
            let (hi, hi_unit) = power_of_two(max + 1);
            if lo_unit == hi_unit {
                format!("{lo}–{hi} {hi_unit}")
            } else {
                format!("{lo} {lo_unit}–{hi} {hi_unit}")
            }
        }
        None => {
            let (lo, unit) = power_of_two(min);
            format!("≥{lo} {unit}")
        }
    }
}

/// A power of two in the largest binary unit that keeps it whole.
fn power_of_two(n: u64) -> (u64, &'static str) {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut n = n;
    let mut unit = 0;
    while unit + 1 < UNITS.len() && n >= 1024 && n % 1024 == 0 {
        n /= 1024;
        unit += 1;
    }
    (n, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(64_000), "62.5 KiB");
        assert_eq!(human_bytes(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 10_000), "<0.1%");
        assert_eq!(percent(0, 10), "0.0%");
        assert_eq!(percent(10, 10), "100.0%");
    }

    #[test]
    fn size_buckets_read_naturally() {
        let labels: Vec<String> = (0..13).map(bucket_label).collect();
        assert_eq!(labels[0], "0 B");
        assert_eq!(labels[1], "1 B");
        assert_eq!(labels[2], "2–3 B");
        assert_eq!(labels[10], "512–1023 B");
        assert_eq!(labels[11], "1–2 KiB");
    }
}
