//! The topology (infra/pipeline.json), typed once in `playback-topology`;
//! re-exported here so the runner's callers keep one import path.

pub use playback_topology::*;

/// A short unique prefix (lowercase, DNS-safe) for one test or one run.
pub fn unique_prefix(tag: &str) -> String {
    let n: u32 = rand::random();
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{tag}-{n:08x}-")
}
