//! Byte counts for people: `512 KB`, `2.4 MB`, `1 MiB`.

/// `too large: 2.4 MB; at most 2 MB`, exact where rounding would make both the same.
pub(super) fn too_large(size: u64, limit: u64) -> String {
    let (a, b) = (human_size(size), human_size(limit));
    if a == b {
        format!("too large: {size} bytes; at most {limit} bytes")
    } else {
        format!("too large: {a}; at most {b}")
    }
}

/// A byte count for people, exact where it can be: in decimal units with at most one decimal
/// (`512 KB`, `2.4 MB`), else in whole binary units (`1 MiB`), else rounded to one decimal, or
/// in bytes under a kilobyte.
pub(crate) fn human_size(n: u64) -> String {
    const DECIMAL: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    const BINARY: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    let Some(&(unit, name)) = DECIMAL.iter().find(|&&(unit, _)| n >= unit) else {
        return if n == 1 {
            "1 byte".to_owned()
        } else {
            format!("{n} bytes")
        };
    };
    let decimal = || {
        let text = format!("{:.1}", n as f64 / unit as f64);
        format!("{} {name}", text.strip_suffix(".0").unwrap_or(&text))
    };
    if n % (unit / 10) == 0 {
        return decimal();
    }
    match BINARY.iter().find(|&&(unit, _)| n >= unit) {
        Some(&(unit, name)) if n % unit == 0 => format!("{} {name}", n / unit),
        _ => decimal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        for (n, text) in [
            (0, "0 bytes"),
            (1, "1 byte"),
            (999, "999 bytes"),
            (1000, "1 KB"),
            (1024, "1 KiB"),
            (512_000, "512 KB"),
            (4_000_000, "4 MB"),
            (1 << 20, "1 MiB"),
            (1_024_000, "1000 KiB"),
            (2_000_001, "2 MB"),
            (2_400_000, "2.4 MB"),
            (2_097_152, "2 MiB"),
            (1_500, "1.5 KB"),
            (3 << 30, "3 GiB"),
        ] {
            assert_eq!(human_size(n), text, "{n}");
        }
        assert_eq!(
            too_large(2_000_001, 2_000_000),
            "too large: 2000001 bytes; at most 2000000 bytes"
        );
    }
}
