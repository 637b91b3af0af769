//! SRE outage signals from the playback-quality queue: error and
//! rebuffer-start counts per minute per (region, device platform, app version),
//! so a bad build shows up as its own row.

use serde::{Deserialize, Serialize};

use crate::event::{EventType, PlaybackEvent};

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

    pub fn dimensions(&self) -> String {
        format!(
            "{}#{}#{}",
            self.region, self.device_platform, self.app_version
        )
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SreCounts {
    pub errors: u64,
    pub rebuffer_starts: u64,
    pub events: u64,
}

impl SreCounts {
    pub fn of(e: &PlaybackEvent<'_>) -> Self {
        SreCounts {
            errors: (e.event_type == EventType::Error) as u64,
            rebuffer_starts: (e.event_type == EventType::RebufferStart) as u64,
            events: 1,
        }
    }

    pub fn add(&mut self, o: SreCounts) {
        self.errors += o.errors;
        self.rebuffer_starts += o.rebuffer_starts;
        self.events += o.events;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    PlaybackFailures,
    RebufferStarts,
}

/// Per-minute counts at or above which an incident opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SreRule {
    pub errors_per_minute: u64,
    pub rebuffer_starts_per_minute: u64,
}

impl SreRule {
    pub fn breaches(&self, totals: &SreCounts) -> Vec<(IncidentKind, u64, u64)> {
        let mut out = Vec::new();
        if totals.errors >= self.errors_per_minute {
            out.push((
                IncidentKind::PlaybackFailures,
                totals.errors,
                self.errors_per_minute,
            ));
        }
        if totals.rebuffer_starts >= self.rebuffer_starts_per_minute {
            let t = self.rebuffer_starts_per_minute;
            out.push((IncidentKind::RebufferStarts, totals.rebuffer_starts, t));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub key: SreKey,
    pub kind: IncidentKind,
    pub count: u64,
    pub threshold: u64,
    pub opened_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_opens_per_kind() {
        let rule = SreRule {
            errors_per_minute: 5,
            rebuffer_starts_per_minute: 10,
        };
        let c = SreCounts {
            errors: 5,
            rebuffer_starts: 9,
            events: 14,
        };
        assert_eq!(
            rule.breaches(&c),
            vec![(IncidentKind::PlaybackFailures, 5, 5)]
        );
    }
}
