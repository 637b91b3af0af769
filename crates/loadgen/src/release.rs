//! A bad release as the generator plays it: which sessions it touches and
//! what it does to one of their heartbeat intervals. Its draws come from its
//! own random stream, so up to the release's start the traffic is the same
//! as without it.

use rand::rngs::StdRng;
use rand::Rng;

use crate::config::{BadRelease, ScenarioConfig};
use crate::population::Viewer;

/// The code a failed start reports; a start failure in `playback_domain::sre`.
pub(crate) const START_FAILURE_CODE: &str = "VIDEO_START_FAILED";
/// The code a crash mid-session reports; fatal in `playback_domain::sre`.
pub(crate) const CRASH_CODE: &str = "DECODER_ERROR";
/// Share of `failure_rate` at which a playing session crashes per interval.
const CRASH_SHARE: f64 = 0.5;
/// Stall a surviving session adds per interval, ms (uniform in the range).
const EXTRA_STALL_MS: (f64, f64) = (1_000.0, 4_000.0);

pub(crate) struct ReleaseAt {
    release: BadRelease,
    start_ms: i64,
    end_ms: i64,
}

/// What the release does to one interval.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Effect {
    pub start_fails: bool,
    pub crash: bool,
    /// Extra stall (ms) and where in the interval it starts (0..1).
    pub rebuffer: Option<(i64, f64)>,
}

impl ReleaseAt {
    pub fn of(cfg: &ScenarioConfig) -> Option<Self> {
        let b = cfg.bad_release.as_ref()?;
        let (start_ms, end_ms) = cfg.bad_release_interval_ms()?;
        Some(ReleaseAt {
            release: b.clone(),
            start_ms,
            end_ms,
        })
    }

    pub fn affects(&self, v: &Viewer, t: i64) -> bool {
        t >= self.start_ms
            && t < self.end_ms
            && self.release.in_slice(v.region, v.platform, v.app_version)
    }

    /// The interval's effect; `first` = the interval right after session_start.
    pub fn draw(&self, first: bool, rng: &mut StdRng) -> Effect {
        let x: [f64; 4] = rng.random();
        let p = self.release.failure_rate;
        let start_fails = first && x[0] < p;
        let crash = !first && x[0] < p * CRASH_SHARE;
        let stall = EXTRA_STALL_MS.0 + x[2] * (EXTRA_STALL_MS.1 - EXTRA_STALL_MS.0);
        Effect {
            start_fails,
            crash,
            rebuffer: (x[1] < p).then_some((stall as i64, x[3])),
        }
    }
}
