//! Video startup time (`startup_ms`, schema_version 2): the mixed fleet. The
//! oldest app version still ships contract v1 (no startup_ms); every other
//! player sends v2 with a lognormal startup time on `session_start`, slower
//! for the title and region under an incident (the same CDN trouble that
//! stalls them).

use rand::Rng;

use crate::population::Viewer;

/// App versions that still send schema_version 1.
pub const V1_APP_VERSIONS: [&str; 1] = ["5.1.4"];
/// Median startup time of a healthy start (ms) and the log-spread around it.
const MEDIAN_MS: f64 = 900.0;
const SIGMA: f64 = 0.5;
/// Healthy starts fall in this range; an incident multiplies, up to 10 s.
const RANGE_MS: (f64, f64) = (300.0, 4_000.0);
const INCIDENT_FACTOR: f64 = 2.5;
const INCIDENT_MAX_MS: f64 = 10_000.0;

/// The contract version `viewer`'s player speaks.
pub fn schema_version(viewer: &Viewer) -> u32 {
    if V1_APP_VERSIONS.contains(&viewer.app_version) {
        1
    } else {
        playback_domain::event::SCHEMA_VERSION
    }
}

/// One start's startup time (ms); always draws two uniforms.
pub fn draw<R: Rng>(rng: &mut R, incident: bool) -> i64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    // Box-Muller: one standard normal.
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let ms = (MEDIAN_MS * (SIGMA * z).exp()).clamp(RANGE_MS.0, RANGE_MS.1);
    if incident {
        (ms * INCIDENT_FACTOR).min(INCIDENT_MAX_MS).round() as i64
    } else {
        ms.round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{rng_for, Stream};

    #[test]
    fn startup_times_are_plausible_and_worse_under_an_incident() {
        let mut rng = rng_for(3, Stream::Startup);
        let mut healthy: Vec<i64> = (0..5_000).map(|_| draw(&mut rng, false)).collect();
        healthy.sort_unstable();
        assert!(healthy.iter().all(|ms| (300..=4_000).contains(ms)));
        let p50 = healthy[healthy.len() / 2];
        assert!((800..=1_000).contains(&p50), "p50 {p50}");
        let p95 = healthy[healthy.len() * 95 / 100];
        assert!((1_700..=2_400).contains(&p95), "p95 {p95}");
        let mut slow: Vec<i64> = (0..5_000).map(|_| draw(&mut rng, true)).collect();
        slow.sort_unstable();
        assert!(slow[slow.len() / 2] > 2 * p50);
    }
}
