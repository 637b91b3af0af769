//! The scenario: population size, rate, bounds and the optional fault
//! switches. Serde-(de)serialisable (a benchmark can keep its scenario in a
//! JSON file) and settable from the CLI's colon-separated flags.

use serde::{Deserialize, Serialize};

use crate::error::LoadgenError;
pub use crate::faults::{BadFirmware, BadRelease, Incident, KinesisOutage, Spike};
use crate::population::{APP_VERSIONS, PLATFORMS, REGIONS};

/// 2026-11-23T10:00:00Z: the default simulated start (the CLI defaults to now).
pub const DEFAULT_START_MS: i64 = 1_795_428_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioConfig {
    pub seed: u64,
    pub viewers: u32,
    pub titles: u32,
    /// Target events per second of simulated time.
    pub rate: f64,
    /// Simulated clock start, epoch millis UTC.
    pub start_time_ms: i64,
    /// Stop at this much simulated time (seconds) ...
    pub duration_s: Option<f64>,
    /// ... or after this many generated events (re-sends not counted), whichever first.
    pub events: Option<u64>,
    pub heartbeat_s: u32,
    /// Mean session length, simulated seconds (an episode ~1500; a track ~240).
    pub mean_session_s: f64,
    /// Pack a viewer's events into records of at most this many bytes; 0 = one event per record.
    pub pack_bytes: usize,
    /// Flush a viewer's pack at the latest this long (simulated s) after its first event; 0 = no limit.
    pub pack_linger_s: f64,
    /// Pack across viewers as an ingest edge would: 0 = one viewer per record
    /// (partition key = viewer_id); N = viewers hashed into N buckets, one
    /// record per bucket (partition key = the bucket), so a viewer's events
    /// still reach one shard in order.
    pub pack_buckets: u32,
    /// Stall fraction of ordinary playback (~0.5 %).
    pub baseline_stall: f64,
    pub incident: Option<Incident>,
    pub bad_firmware: Option<BadFirmware>,
    /// A build that fails to play on one platform in one region.
    pub bad_release: Option<BadRelease>,
    /// Fraction of records re-sent with identical content.
    pub retry_rate: f64,
    /// Fraction of heartbeats sent `late_hours` after their event time.
    pub late_rate: f64,
    pub late_hours: f64,
    pub spike: Option<Spike>,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            seed: 42,
            viewers: 1_000,
            titles: 200,
            rate: 100.0,
            start_time_ms: DEFAULT_START_MS,
            duration_s: Some(60.0),
            events: None,
            heartbeat_s: 10,
            mean_session_s: crate::scenario::MEAN_SESSION_S,
            pack_bytes: 5_000,
            pack_linger_s: 10.0,
            pack_buckets: 0,
            baseline_stall: 0.005,
            incident: None,
            bad_firmware: None,
            bad_release: None,
            retry_rate: 0.0,
            late_rate: 0.0,
            late_hours: 3.0,
            spike: None,
        }
    }
}

impl ScenarioConfig {
    /// Checks what the types cannot; the message names the offending setting.
    pub fn validate(&self) -> Result<(), LoadgenError> {
        let bad = |m: String| Err(LoadgenError::Config(m));
        if self.viewers == 0 || self.titles == 0 {
            return bad("viewers and titles must be at least 1".into());
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return bad(format!("rate must be > 0 (got {})", self.rate));
        }
        if self.heartbeat_s == 0 {
            return bad("heartbeat_s must be at least 1".into());
        }
        if !(self.mean_session_s.is_finite() && self.mean_session_s >= self.heartbeat_s as f64) {
            return bad(format!(
                "mean_session_s must be at least heartbeat_s ({}), got {}",
                self.heartbeat_s, self.mean_session_s
            ));
        }
        match (self.duration_s, self.events) {
            (None, None) => return bad("give a duration_s or an events count".into()),
            (Some(d), _) if !(d.is_finite() && d > 0.0) => {
                return bad(format!("duration_s must be > 0 (got {d})"))
            }
            (_, Some(0)) => return bad("events must be at least 1".into()),
            _ => {}
        }
        if self.pack_bytes > playback_domain::event::MAX_PACK_BYTES {
            return bad(format!(
                "pack_bytes must be at most {} (the contract's packed-record size)",
                playback_domain::event::MAX_PACK_BYTES
            ));
        }
        if !(self.pack_linger_s.is_finite() && self.pack_linger_s >= 0.0) {
            return bad("pack_linger_s must be >= 0".into());
        }
        for (name, f) in [
            ("baseline_stall", self.baseline_stall),
            ("retry_rate", self.retry_rate),
            ("late_rate", self.late_rate),
        ] {
            if !(0.0..=1.0).contains(&f) {
                return bad(format!("{name} must be in [0, 1] (got {f})"));
            }
        }
        if !(self.late_hours.is_finite() && self.late_hours >= 0.0) {
            return bad("late_hours must be >= 0".into());
        }
        if let Some(i) = &self.incident {
            let known_title =
                (0..self.titles as usize).any(|k| crate::population::title_id(k) == i.title_id);
            if !known_title {
                return bad(format!(
                    "incident title {:?} is not in the catalogue (t0001..{})",
                    i.title_id,
                    crate::population::title_id(self.titles as usize - 1)
                ));
            }
            if !REGIONS.iter().any(|(r, _)| *r == i.region) {
                return bad(format!(
                    "incident region {:?} is not one of {}",
                    i.region,
                    names(&REGIONS)
                ));
            }
        }
        if let Some(b) = &self.bad_firmware {
            if b.app_version != "*" && !APP_VERSIONS.iter().any(|(v, _)| *v == b.app_version) {
                return bad(format!(
                    "bad-firmware version {:?} is not one of {} or *",
                    b.app_version,
                    names(&APP_VERSIONS)
                ));
            }
        }
        if let Some(b) = &self.bad_release {
            for (what, value, table) in [
                ("version", &b.app_version, &APP_VERSIONS[..]),
                ("platform", &b.device_platform, &PLATFORMS[..]),
                ("region", &b.region, &REGIONS[..]),
            ] {
                if !table.iter().any(|(n, _)| n == value) {
                    return bad(format!(
                        "bad-release {what} {value:?} is not one of {}",
                        names(table)
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn heartbeat_ms(&self) -> i64 {
        self.heartbeat_s as i64 * 1_000
    }

    /// End of the simulated run (exclusive), if bounded by time.
    pub fn end_ms(&self) -> Option<i64> {
        self.duration_s
            .map(|d| self.start_time_ms + (d * 1_000.0).round() as i64)
    }

    /// The incident's `[start, end)` in epoch millis.
    pub fn incident_interval_ms(&self) -> Option<(i64, i64)> {
        self.incident.as_ref().map(|i| {
            let s = self.start_time_ms + (i.start_s * 1_000.0).round() as i64;
            (s, s + (i.duration_s * 1_000.0).round() as i64)
        })
    }

    /// A failure the bad release caused: a valid error line of its slice
    /// from its start on.
    pub fn is_release_failure(&self, l: &crate::LineEntry) -> bool {
        let (Some(r), Some((start, _))) = (&self.bad_release, self.bad_release_interval_ms())
        else {
            return false;
        };
        l.valid
            && l.error_code.is_some()
            && l.event_time_ms >= start
            && r.in_slice(&l.region, &l.device_platform, &l.app_version)
    }

    /// The bad release's `[start, end)` in epoch millis.
    pub fn bad_release_interval_ms(&self) -> Option<(i64, i64)> {
        self.bad_release.as_ref().map(|b| {
            let s = self.start_time_ms + (b.start_s * 1_000.0).round() as i64;
            (s, s + (b.duration_s * 1_000.0).round() as i64)
        })
    }

    /// The spike's `[start, end)` in epoch millis.
    pub fn spike_interval_ms(&self) -> Option<(i64, i64)> {
        self.spike.as_ref().map(|sp| {
            let s = self.start_time_ms + (sp.start_s * 1_000.0).round() as i64;
            (s, s + (sp.duration_s * 1_000.0).round() as i64)
        })
    }

    pub fn late_ms(&self) -> i64 {
        (self.late_hours * 3_600_000.0).round() as i64
    }
}

fn names(table: &[(&str, f64)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_colon_flags() {
        let i: Incident = "t0001:eu-west:120:300:0.3".parse().unwrap();
        assert_eq!(
            (i.title_id.as_str(), i.region.as_str(), i.start_s),
            ("t0001", "eu-west", 120.0)
        );
        assert_eq!((i.duration_s, i.stall_fraction), (300.0, 0.3));
        let b: BadFirmware = "5.4.0-beta:0.2".parse().unwrap();
        assert_eq!((b.app_version.as_str(), b.rate), ("5.4.0-beta", 0.2));
        let s: Spike = "60:30:5".parse().unwrap();
        assert_eq!((s.start_s, s.duration_s, s.factor), (60.0, 30.0, 5.0));
    }

    #[test]
    fn bad_flags_give_one_line_errors() {
        for (r, needle) in [
            ("t1:eu".parse::<Incident>().map(|_| ()), "expected title"),
            (
                "t1:eu:x:1:0.1".parse::<Incident>().map(|_| ()),
                "not a number",
            ),
            ("t1:eu:1:1:1.5".parse::<Incident>().map(|_| ()), "[0, 1]"),
            (
                "5.2.0".parse::<BadFirmware>().map(|_| ()),
                "app_version:rate",
            ),
            ("1:1:0.5".parse::<Spike>().map(|_| ()), "factor"),
            ("1:-1:5".parse::<Spike>().map(|_| ()), "duration_s > 0"),
        ] {
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let mut c = ScenarioConfig {
            incident: Some("t9999:eu-west:0:10:0.3".parse().unwrap()),
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("t9999"));
        c.incident = Some("t0002:mars:0:10:0.3".parse().unwrap());
        assert!(c.validate().unwrap_err().to_string().contains("mars"));
        c.incident = None;
        c.bad_firmware = Some("9.9:0.1".parse().unwrap());
        assert!(c.validate().is_err());
        c.bad_firmware = Some("*:0.02".parse().unwrap());
        c.validate().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ScenarioConfig>(&json).unwrap(), c);
        let partial: ScenarioConfig = serde_json::from_str(r#"{"seed": 7}"#).unwrap();
        assert_eq!(partial.seed, 7);
    }
}
