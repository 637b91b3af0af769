//! SRE outage signals from the playback-quality queue, as RATES per minute per
//! slice (region x device platform x app version), each judged against the
//! slice's own recent minutes, so a bad build on one platform in one region
//! stands out as its own row and a big region does not page on a normal minute.
//!
//! Every definition lives here, once: which error codes are fatal, what each
//! rate's numerator and denominator are, and the rule. The incident lifecycle
//! is in [`incident`].
//!
//! Denominators need `session_start` and `heartbeat` events on the quality
//! queue ([`feeds_sre`]); without them no slice reaches its minimum sample and
//! nothing pages (a quiet failure mode, hence the minimum sample is per slice
//! and visible in the EMF metrics).

pub mod incident;

use serde::{Deserialize, Serialize};

use crate::event::{EventType, PlaybackEvent};

/// Error codes after which the session cannot play: the player gives up.
/// Anything else (`CDN_TIMEOUT`, ...) is retried by the player and shows up,
/// if at all, as rebuffering.
pub const FATAL_ERROR_CODES: [&str; 5] = [
    "DRM_LICENSE",
    "DRM_LICENSE_FAILED",
    "DECODER_ERROR",
    "MANIFEST_404",
    "VIDEO_START_FAILED",
];

/// The fatal codes that mean the first frame never showed (a video-start
/// failure); a subset of [`FATAL_ERROR_CODES`].
pub const START_FAILURE_CODES: [&str; 4] = [
    "DRM_LICENSE",
    "DRM_LICENSE_FAILED",
    "MANIFEST_404",
    "VIDEO_START_FAILED",
];

pub fn is_fatal(error_code: Option<&str>) -> bool {
    error_code.is_some_and(|c| FATAL_ERROR_CODES.contains(&c))
}

pub fn is_start_failure(error_code: Option<&str>) -> bool {
    error_code.is_some_and(|c| START_FAILURE_CODES.contains(&c))
}

/// The event types the signals need on the quality queue: the quality events
/// plus the two denominators (attempts, session time).
pub fn feeds_sre(t: EventType) -> bool {
    t.is_playback_quality() || matches!(t, EventType::SessionStart | EventType::Heartbeat)
}

/// One slice of one minute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SreKey {
    pub minute_ms: i64,
    pub region: String,
    pub device_platform: String,
    pub app_version: String,
}

impl SreKey {
    pub fn of(e: &PlaybackEvent<'_>) -> Self {
        SreKey {
            minute_ms: e.event_time_ms - e.event_time_ms.rem_euclid(60_000),
            region: e.region.to_string(),
            device_platform: e
                .device_platform
                .as_deref()
                .unwrap_or("unknown")
                .to_string(),
            app_version: e.app_version.as_deref().unwrap_or("unknown").to_string(),
        }
    }

    /// The slice, without the minute: `region#platform#version`.
    pub fn dimensions(&self) -> String {
        format!(
            "{}#{}#{}",
            self.region, self.device_platform, self.app_version
        )
    }

    /// The same slice `minutes` earlier (negative: later).
    pub fn minus_minutes(&self, minutes: i64) -> Self {
        SreKey {
            minute_ms: self.minute_ms - minutes * 60_000,
            ..self.clone()
        }
    }
}

/// Additive counts of one slice-minute: every field is a sum, so per-batch
/// partials combine with a DynamoDB `ADD` whatever the batching.
///
/// Why session-milliseconds and not distinct active sessions: a distinct count
/// is not additive across Lambda batches (a session seen by two batches would
/// count twice, or need a set per minute). Heartbeats carry the watched and
/// stalled milliseconds since the previous one, so their sum is the time
/// sessions were active in the minute, additive and independent of the
/// heartbeat interval; rebuffer starts per session-minute is then the rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SreCounts {
    /// Playback attempts: `session_start` events.
    pub attempts: u64,
    /// `error` events with a fatal code.
    pub fatal_errors: u64,
    /// `error` events with a start-failure code.
    pub start_failures: u64,
    pub rebuffer_starts: u64,
    /// watched + stalled ms of heartbeats: session time in the minute.
    pub session_ms: u64,
    pub events: u64,
}

impl SreCounts {
    pub fn of(e: &PlaybackEvent<'_>) -> Self {
        Self::of_fields(
            e.event_type,
            e.error_code.as_deref(),
            e.watched_ms,
            e.stalled_ms,
        )
    }

    pub fn of_fields(
        t: EventType,
        error_code: Option<&str>,
        watched_ms: Option<i64>,
        stalled_ms: Option<i64>,
    ) -> Self {
        let error = t == EventType::Error;
        let session_ms = if t == EventType::Heartbeat {
            (watched_ms.unwrap_or(0).max(0) + stalled_ms.unwrap_or(0).max(0)) as u64
        } else {
            0
        };
        SreCounts {
            attempts: (t == EventType::SessionStart) as u64,
            fatal_errors: (error && is_fatal(error_code)) as u64,
            start_failures: (error && is_start_failure(error_code)) as u64,
            rebuffer_starts: (t == EventType::RebufferStart) as u64,
            session_ms,
            events: 1,
        }
    }

    pub fn add(&mut self, o: SreCounts) {
        self.attempts += o.attempts;
        self.fatal_errors += o.fatal_errors;
        self.start_failures += o.start_failures;
        self.rebuffer_starts += o.rebuffer_starts;
        self.session_ms += o.session_ms;
        self.events += o.events;
    }

    /// (numerator, denominator) of a kind's rate.
    pub fn ratio(&self, kind: IncidentKind) -> (f64, f64) {
        match kind {
            IncidentKind::PlaybackFailures => (self.fatal_errors as f64, self.attempts as f64),
            IncidentKind::VideoStartFailures => (self.start_failures as f64, self.attempts as f64),
            IncidentKind::RebufferStarts => (
                self.rebuffer_starts as f64,
                self.session_ms as f64 / 60_000.0,
            ),
        }
    }

    /// The kind's rate; 0 without a denominator.
    pub fn rate(&self, kind: IncidentKind) -> f64 {
        match self.ratio(kind) {
            (_, d) if d <= 0.0 => 0.0,
            (n, d) => n / d,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// Fatal errors per playback attempt.
    PlaybackFailures,
    /// Start-failure errors per playback attempt.
    VideoStartFailures,
    /// Rebuffer starts per session-minute.
    RebufferStarts,
}

impl IncidentKind {
    pub const ALL: [IncidentKind; 3] = [
        IncidentKind::PlaybackFailures,
        IncidentKind::VideoStartFailures,
        IncidentKind::RebufferStarts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::PlaybackFailures => "playback_failures",
            IncidentKind::VideoStartFailures => "video_start_failures",
            IncidentKind::RebufferStarts => "rebuffer_starts",
        }
    }
}

/// The rule, parameters from `infra/pipeline.json` `sre`.
///
/// A minute breaches a kind when its sample is at least the minimum and even
/// the lower confidence bound of its rate (`confidence_z` standard errors:
/// Wilson's for a failure proportion, a Poisson bound for rebuffer starts)
/// exceeds `max(floor, margin x baseline)`, the baseline being the
/// slice's pooled rate over the previous `baseline_minutes` (sum of
/// numerators over sum of denominators: a pooled rate is not thrown by one
/// noisy small minute). The floor makes a small slice show a real excess,
/// not 1 failure in 3 attempts against a baseline of 0; the margin makes a
/// slice with a normally high rate (an old TV build) page only on a rise; the
/// bound keeps 2 failures in 20 attempts (10 %, a fluke at a 1 % baseline
/// that a point estimate would page on in some slice every few minutes) from
/// paging, while 10 in 20 does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SreRule {
    pub baseline_minutes: u32,
    pub margin: f64,
    /// Fatal errors per attempt below which nothing pages.
    pub failure_rate_floor: f64,
    /// Start failures per attempt below which nothing pages.
    pub start_failure_rate_floor: f64,
    /// Rebuffer starts per session-minute below which nothing pages.
    pub rebuffer_rate_floor: f64,
    /// Attempts in the minute for the two failure rates to be judged.
    pub min_attempts: u64,
    /// Session-minutes in the minute for the rebuffer rate to be judged.
    pub min_session_minutes: f64,
    /// Minutes without a breach after which an open incident resolves.
    pub quiet_minutes: u32,
    /// Standard errors below the observed rate the bound is taken at.
    pub confidence_z: f64,
}

/// Values for tests; the deployed rule is pipeline.json's `sre`
/// (`playback_topology::Topology::sre`), which sre-buffer defaults to.
impl Default for SreRule {
    fn default() -> Self {
        SreRule {
            baseline_minutes: 10,
            margin: 2.0,
            failure_rate_floor: 0.05,
            start_failure_rate_floor: 0.05,
            rebuffer_rate_floor: 0.5,
            min_attempts: 20,
            min_session_minutes: 20.0,
            quiet_minutes: 5,
            confidence_z: 3.0,
        }
    }
}

/// One kind judged on one slice-minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: IncidentKind,
    pub rate: f64,
    pub baseline_rate: f64,
    pub threshold: f64,
    /// The denominator: attempts or session-minutes.
    pub sample: f64,
    /// The rate's lower confidence bound: what is compared to the threshold.
    pub lower_bound: f64,
    pub breached: bool,
}

/// Wilson's lower bound of a proportion `k / n` at `z` (k capped at n: crashes
/// and failed starts together can outnumber attempts).
pub fn wilson_lower(k: f64, n: f64, z: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    let p = (k / n).clamp(0.0, 1.0);
    let z2n = z * z / n;
    let centre = p + z2n / 2.0;
    let spread = z * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt();
    ((centre - spread) / (1.0 + z2n)).max(0.0)
}

/// A lower bound of a Poisson rate: `k` events over `exposure`, at `z`
/// (the square-root approximation, `(sqrt(k) - z/2)^2 / exposure`).
pub fn poisson_lower(k: f64, exposure: f64, z: f64) -> f64 {
    let root = k.max(0.0).sqrt() - z / 2.0;
    if exposure <= 0.0 || root <= 0.0 {
        return 0.0;
    }
    root * root / exposure
}

impl SreRule {
    fn floor(&self, kind: IncidentKind) -> f64 {
        match kind {
            IncidentKind::PlaybackFailures => self.failure_rate_floor,
            IncidentKind::VideoStartFailures => self.start_failure_rate_floor,
            IncidentKind::RebufferStarts => self.rebuffer_rate_floor,
        }
    }

    fn min_sample(&self, kind: IncidentKind) -> f64 {
        match kind {
            IncidentKind::RebufferStarts => self.min_session_minutes,
            _ => self.min_attempts as f64,
        }
    }

    /// Every kind of `minute` judged against `baseline` (the previous
    /// minutes' counts summed).
    pub fn judge(&self, minute: &SreCounts, baseline: &SreCounts) -> Vec<Signal> {
        IncidentKind::ALL
            .iter()
            .map(|&kind| {
                let baseline_rate = baseline.rate(kind);
                let threshold = self.floor(kind).max(self.margin * baseline_rate);
                let (events, sample) = minute.ratio(kind);
                let lower_bound = match kind {
                    IncidentKind::RebufferStarts => {
                        poisson_lower(events, sample, self.confidence_z)
                    }
                    _ => wilson_lower(events, sample, self.confidence_z),
                };
                Signal {
                    kind,
                    rate: minute.rate(kind),
                    baseline_rate,
                    threshold,
                    sample,
                    lower_bound,
                    breached: sample >= self.min_sample(kind) && lower_bound > threshold,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
