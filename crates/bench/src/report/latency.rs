//! The latency section of RESULTS.md: filled by hand from the demo run, and
//! kept across rewrites between its two markers.

use std::fmt::Write as _;

pub const LATENCY_BEGIN: &str =
    "<!-- latency:begin (kept by `make bench`; filled from the demo run) -->";
pub const LATENCY_END: &str = "<!-- latency:end -->";

/// The hand-maintained latency section of an existing RESULTS.md, if any.
pub fn preserved_latency(existing: &str) -> Option<String> {
    let start = existing.find(LATENCY_BEGIN)? + LATENCY_BEGIN.len();
    let end = existing[start..].find(LATENCY_END)? + start;
    Some(existing[start..end].trim().to_string())
}

pub const DEFAULT_LATENCY: &str = "**Not measured by `make bench`.** The local end-to-end alert latency \
(from the first record of an injected incident to the alert item: p50 and max) comes from the demo run \
(`make demo`, crates/demo), owned by another engineer. Paste its figures here: `make bench` keeps \
whatever stands between the two markers.";

/// The section, with whatever stood between the markers before.
pub(super) fn section(s: &mut String, latency: &str) {
    let _ = writeln!(s, "## Local end-to-end alert latency\n");
    let _ = writeln!(s, "{LATENCY_BEGIN}\n{latency}\n{LATENCY_END}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_section_survives_a_rewrite() {
        let doc = format!("head\n{LATENCY_BEGIN}\np50 1.2 s, max 4 s\n{LATENCY_END}\ntail");
        assert_eq!(
            preserved_latency(&doc).as_deref(),
            Some("p50 1.2 s, max 4 s")
        );
        assert_eq!(preserved_latency("no markers"), None);
    }
}
