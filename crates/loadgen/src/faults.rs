//! The fault switches a scenario or a run can carry, each settable from a
//! colon-separated CLI flag with a one-line error naming what is wrong.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::LoadgenError;

/// Sessions on one title x region rebuffer heavily for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub title_id: String,
    pub region: String,
    /// Offset from the start of the run (simulated seconds).
    pub start_s: f64,
    pub duration_s: f64,
    /// Share of each affected heartbeat interval spent stalled (e.g. 0.3).
    pub stall_fraction: f64,
}

/// One app build emits malformed events. `app_version` `*` means every build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadFirmware {
    pub app_version: String,
    /// Fraction of that build's events that are malformed.
    pub rate: f64,
}

/// The event rate multiplies by `factor` for a while (viewers pile in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    pub start_s: f64,
    pub duration_s: f64,
    pub factor: f64,
}

fn num(flag: &'static str, value: &str, part: &str, name: &str) -> Result<f64, LoadgenError> {
    part.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| LoadgenError::spec(flag, value, format!("{name} {part:?} is not a number")))
}

fn fraction(flag: &'static str, v: &str, part: &str, name: &str) -> Result<f64, LoadgenError> {
    let f = num(flag, v, part, name)?;
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(LoadgenError::spec(
            flag,
            v,
            format!("{name} must be in [0, 1]"),
        ))
    }
}

fn offset(flag: &'static str, v: &str, start: &str, dur: &str) -> Result<(f64, f64), LoadgenError> {
    let (s, d) = (
        num(flag, v, start, "start_s")?,
        num(flag, v, dur, "duration_s")?,
    );
    if s < 0.0 || d <= 0.0 {
        return Err(LoadgenError::spec(
            flag,
            v,
            "start_s must be >= 0 and duration_s > 0",
        ));
    }
    Ok((s, d))
}

impl FromStr for Incident {
    type Err = LoadgenError;

    /// `title:region:start_s:duration_s:stall_fraction`
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        const F: &str = "--incident";
        let p: Vec<&str> = v.split(':').collect();
        let [title, region, start, dur, stall] = p[..] else {
            return Err(LoadgenError::spec(
                F,
                v,
                "expected title:region:start_s:duration_s:stall_fraction",
            ));
        };
        if title.trim().is_empty() || region.trim().is_empty() {
            return Err(LoadgenError::spec(F, v, "title and region must be given"));
        }
        let (start_s, duration_s) = offset(F, v, start, dur)?;
        Ok(Incident {
            title_id: title.trim().to_string(),
            region: region.trim().to_string(),
            start_s,
            duration_s,
            stall_fraction: fraction(F, v, stall, "stall_fraction")?,
        })
    }
}

impl FromStr for BadFirmware {
    type Err = LoadgenError;

    /// `app_version:rate` (`*:0.02` = 2 % of every build's events).
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        const F: &str = "--bad-firmware";
        let Some((version, rate)) = v.rsplit_once(':') else {
            return Err(LoadgenError::spec(F, v, "expected app_version:rate"));
        };
        if version.trim().is_empty() {
            return Err(LoadgenError::spec(F, v, "app_version must be given"));
        }
        Ok(BadFirmware {
            app_version: version.trim().to_string(),
            rate: fraction(F, v, rate, "rate")?,
        })
    }
}

impl FromStr for Spike {
    type Err = LoadgenError;

    /// `start_s:duration_s:factor`
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        const F: &str = "--spike";
        let p: Vec<&str> = v.split(':').collect();
        let [start, dur, factor] = p[..] else {
            return Err(LoadgenError::spec(
                F,
                v,
                "expected start_s:duration_s:factor",
            ));
        };
        let (start_s, duration_s) = offset(F, v, start, dur)?;
        let factor = num(F, v, factor, "factor")?;
        if !(1.0..=100.0).contains(&factor) {
            return Err(LoadgenError::spec(F, v, "factor must be in [1, 100]"));
        }
        Ok(Spike {
            start_s,
            duration_s,
            factor,
        })
    }
}

/// A bad app build on one platform in one region: from `start_s` for
/// `duration_s`, that slice's playback attempts fail to start with
/// probability `failure_rate` (the viewer tries again a few seconds later, up
/// to [`BadRelease::MAX_ATTEMPTS`] times), sessions already playing crash with
/// a fatal error at that rate per heartbeat interval, and the survivors
/// rebuffer more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadRelease {
    pub app_version: String,
    pub device_platform: String,
    pub region: String,
    pub start_s: f64,
    pub duration_s: f64,
    pub failure_rate: f64,
}

impl BadRelease {
    /// Attempts a viewer makes before giving up on a title.
    pub const MAX_ATTEMPTS: u32 = 4;

    /// Whether (region, platform, version) is the release's slice.
    pub fn in_slice(&self, region: &str, device_platform: &str, app_version: &str) -> bool {
        (region, device_platform, app_version)
            == (&self.region, &self.device_platform, &self.app_version)
    }
}

impl FromStr for BadRelease {
    type Err = LoadgenError;

    /// `version:platform:region:start_s:duration_s:failure_rate`
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        const F: &str = "--bad-release";
        let p: Vec<&str> = v.split(':').collect();
        let [version, platform, region, start, dur, rate] = p[..] else {
            return Err(LoadgenError::spec(
                F,
                v,
                "expected version:platform:region:start_s:duration_s:failure_rate",
            ));
        };
        if [version, platform, region]
            .iter()
            .any(|s| s.trim().is_empty())
        {
            return Err(LoadgenError::spec(
                F,
                v,
                "version, platform and region must be given",
            ));
        }
        let (start_s, duration_s) = offset(F, v, start, dur)?;
        Ok(BadRelease {
            app_version: version.trim().to_string(),
            device_platform: platform.trim().to_string(),
            region: region.trim().to_string(),
            start_s,
            duration_s,
            failure_rate: fraction(F, v, rate, "failure_rate")?,
        })
    }
}

/// The stream refuses every PutRecords call from `start_s` (wall-clock
/// seconds after the run starts) for `duration_s`: a regional Kinesis outage
/// as the producer sees it. The SQS quality path is not affected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KinesisOutage {
    pub start_s: f64,
    pub duration_s: f64,
}

impl FromStr for KinesisOutage {
    type Err = LoadgenError;

    /// `start_s:duration_s`
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        const F: &str = "--kinesis-outage";
        let Some((start, dur)) = v.split_once(':') else {
            return Err(LoadgenError::spec(F, v, "expected start_s:duration_s"));
        };
        let (start_s, duration_s) = offset(F, v, start, dur)?;
        Ok(KinesisOutage {
            start_s,
            duration_s,
        })
    }
}

impl KinesisOutage {
    /// Whether the stream is down `elapsed` after the run started.
    pub fn covers(&self, elapsed: std::time::Duration) -> bool {
        let t = elapsed.as_secs_f64();
        t >= self.start_s && t < self.start_s + self.duration_s
    }
}
