//! The incident lifecycle: a breach opens an incident (one per slice and kind
//! while open), later breaches update it (last breaching minute, peak rate),
//! and `quiet_minutes` minutes without a breach resolve it. Only a breach in
//! a minute after the resolution re-opens it, so a redelivered old minute
//! cannot.
//!
//! Decisions are pure ([`step`]); the store applies them with conditional
//! writes, and the handler pages once per incident by a `notified` flag.

use serde::{Deserialize, Serialize};

use super::{IncidentKind, Signal, SreKey, SreRule};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Open,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The slice; `minute_ms` is the first breaching minute.
    pub key: SreKey,
    pub kind: IncidentKind,
    pub state: IncidentState,
    pub last_breach_minute_ms: i64,
    pub peak_rate: f64,
    /// Threshold and baseline of the minute that opened it.
    pub threshold: f64,
    pub baseline_rate: f64,
    pub opened_at_ms: i64,
    pub resolved_minute_ms: Option<i64>,
    /// The on-call topic was paged (set after the publish succeeded).
    pub notified: bool,
}

impl Incident {
    pub fn opened_minute_ms(&self) -> i64 {
        self.key.minute_ms
    }

    pub fn is_open(&self) -> bool {
        self.state == IncidentState::Open
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Nothing,
    Open(Incident),
    /// The open incident with its last breaching minute and peak moved on.
    Update(Incident),
    /// Resolve the open incident as of this minute.
    Resolve(Incident),
}

/// What one judged slice-minute does to the slice's current incident of
/// `signal.kind` (`current`: the stored one, open or resolved, if any).
pub fn step(
    current: Option<&Incident>,
    minute: &SreKey,
    signal: &Signal,
    rule: &SreRule,
    now_ms: i64,
) -> Action {
    let m = minute.minute_ms;
    match (current, signal.breached) {
        (Some(i), true) if i.is_open() => {
            if m <= i.last_breach_minute_ms && signal.rate <= i.peak_rate {
                return Action::Nothing;
            }
            let mut u = i.clone();
            u.last_breach_minute_ms = u.last_breach_minute_ms.max(m);
            u.peak_rate = u.peak_rate.max(signal.rate);
            Action::Update(u)
        }
        (Some(i), true) if i.resolved_minute_ms.is_some_and(|r| m <= r) => Action::Nothing,
        (_, true) => Action::Open(Incident {
            key: minute.clone(),
            kind: signal.kind,
            state: IncidentState::Open,
            last_breach_minute_ms: m,
            peak_rate: signal.rate,
            threshold: signal.threshold,
            baseline_rate: signal.baseline_rate,
            opened_at_ms: now_ms,
            resolved_minute_ms: None,
            notified: false,
        }),
        (Some(i), false)
            if i.is_open() && m >= i.last_breach_minute_ms + rule.quiet_minutes as i64 * 60_000 =>
        {
            let mut r = i.clone();
            r.state = IncidentState::Resolved;
            r.resolved_minute_ms = Some(m);
            Action::Resolve(r)
        }
        _ => Action::Nothing,
    }
}
