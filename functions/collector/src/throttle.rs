//! Per-app request limits for the long-lived host (`APP_RATE_LIMIT_RPS`,
//! `APP_RATE_BURST`): a keyed GCRA limiter per task. The Lambda has none of
//! it: one request per instance, so its cap is reserved concurrency and, on
//! the HTTP API, the stage throttle. The fleet-wide limit of an app is the
//! per-task one times the tasks.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ports::AppLimit;

pub struct AppThrottle {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    rps: NonZeroU32,
    burst: NonZeroU32,
}

impl AppThrottle {
    /// `rps` requests per second per app, `burst` at once (at least 1 each).
    pub fn new(rps: u32, burst: u32) -> Self {
        let rps = NonZeroU32::new(rps).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(rps);
        AppThrottle {
            limiter: RateLimiter::keyed(Quota::per_second(rps).allow_burst(burst)),
            clock: DefaultClock::default(),
            rps,
            burst,
        }
    }

    /// `APP_RATE_LIMIT_RPS` (unset or 0: no limit) and `APP_RATE_BURST`
    /// (default: one second's worth).
    pub fn from_env() -> Result<Option<Self>, playback_aws::AwsError> {
        let rps: u32 = playback_aws::config::parsed("APP_RATE_LIMIT_RPS", 0)?;
        if rps == 0 {
            return Ok(None);
        }
        let burst = playback_aws::config::parsed("APP_RATE_BURST", rps)?;
        Ok(Some(AppThrottle::new(rps, burst)))
    }
}

impl AppLimit for AppThrottle {
    fn admit(&self, app_id: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&app_id.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    fn describe(&self) -> String {
        format!(
            "{} requests/s (burst {}) per app on this host",
            self.rps, self.burst
        )
    }
}
