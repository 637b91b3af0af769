//! Number formatting shared by the RESULTS.md sections.

/// Whole number with spaced thousands (`1 234 567`), as RESULTS.md prints them.
pub(super) fn f0(x: f64) -> String {
    let s = format!("{:.0}", x);
    let neg = s.starts_with('-');
    let digits: Vec<char> = s.trim_start_matches('-').chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(*c);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// Bytes as decimal megabytes (the zip target is 5 000 000 bytes).
pub(super) fn mb(b: u64) -> String {
    format!("{:.2} MB", b as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_spaced() {
        assert_eq!(f0(1234567.4), "1 234 567");
        assert_eq!(f0(999.0), "999");
        assert_eq!(f0(-1000.0), "-1 000");
    }
}
