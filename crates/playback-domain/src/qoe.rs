//! Live QoE: per title x region tumbling-window aggregates and the alert rule.
//!
//! One shard sees only part of a title x region (the partition key is
//! viewer_id), so each shard accumulates a partial window, flushes it once at
//! window end, and the alert is judged on the combined totals read back.
//! Viewers (and so sessions) never span shards, which makes the per-shard
//! distinct counts simply summable.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::event::PlaybackEvent;
use crate::metrics::{rebuffering_ratio, stable_hash};

/// The hasher of the batch-local maps (viewer and title ids from our own
/// stream): foldhash's fast, fixed-seed hasher. SipHash's flood resistance
/// buys nothing here and costs ~20 ns per lookup.
pub type FastHash = foldhash::fast::FixedState;

/// The partial aggregate of one title x region on one shard in one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialWindow {
    #[serde(rename = "w")]
    pub watched_ms: u64,
    #[serde(rename = "s")]
    pub stalled_ms: u64,
    #[serde(rename = "n")]
    pub events: u64,
    /// Stable hashes of session ids / viewer ids seen (8 bytes each in state).
    #[serde(rename = "ss")]
    pub sessions: HashSet<u64, FastHash>,
    #[serde(rename = "vs")]
    pub viewers: HashSet<u64, FastHash>,
}

impl PartialWindow {
    pub fn add(&mut self, e: &PlaybackEvent<'_>) {
        self.watched_ms += e.watched_ms.unwrap_or(0) as u64;
        self.stalled_ms += e.stalled_ms.unwrap_or(0) as u64;
        self.events += 1;
        self.sessions
            .insert(stable_hash(&[&e.viewer_id, &e.session_id]));
        self.viewers.insert(stable_hash(&[&e.viewer_id]));
    }

    /// This shard's contribution as it is stored and combined.
    pub fn totals(&self) -> WindowTotals {
        WindowTotals {
            watched_ms: self.watched_ms,
            stalled_ms: self.stalled_ms,
            events: self.events,
            sessions: self.sessions.len() as u64,
            viewers: self.viewers.len() as u64,
            shards_flushed: 1,
        }
    }

    pub fn merge(&mut self, other: &PartialWindow) {
        self.watched_ms += other.watched_ms;
        self.stalled_ms += other.stalled_ms;
        self.events += other.events;
        self.sessions.extend(&other.sessions);
        self.viewers.extend(&other.viewers);
    }
}

/// A shard's windowed state: title -> region -> partial. Nested maps let the
/// hot loop look up by `&str` without building an owned key per event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardWindow {
    pub groups: HashMap<String, HashMap<String, PartialWindow, FastHash>, FastHash>,
}

/// The key under which a shard window travels in Lambda's tumbling-window `state`.
pub const STATE_KEY: &str = "qoe.v1";

impl ShardWindow {
    pub fn add(&mut self, e: &PlaybackEvent<'_>) {
        let regions = match self.groups.get_mut(e.title_id.as_ref()) {
            Some(r) => r,
            None => self.groups.entry(e.title_id.to_string()).or_default(),
        };
        let partial = match regions.get_mut(e.region.as_ref()) {
            Some(p) => p,
            None => regions.entry(e.region.to_string()).or_default(),
        };
        partial.add(e);
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Iterates (title, region, partial) in a deterministic order.
    pub fn entries(&self) -> Vec<(&str, &str, &PartialWindow)> {
        let mut v: Vec<_> = self
            .groups
            .iter()
            .flat_map(|(t, rs)| rs.iter().map(move |(r, p)| (t.as_str(), r.as_str(), p)))
            .collect();
        v.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v
    }

    pub fn to_state(&self) -> String {
        serde_json::to_string(&self.groups).expect("window state serialises")
    }

    pub fn from_state(s: &str) -> Result<Self, serde_json::Error> {
        Ok(ShardWindow {
            groups: serde_json::from_str(s)?,
        })
    }
}

/// Combined totals of a title x region window across the shards flushed so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowTotals {
    pub watched_ms: u64,
    pub stalled_ms: u64,
    pub events: u64,
    pub sessions: u64,
    pub viewers: u64,
    pub shards_flushed: u64,
}

impl WindowTotals {
    /// Adds another shard's totals (distinct counts add up: a session's and a
    /// viewer's events all ride one shard, the stream being keyed by viewer).
    pub fn add(&mut self, o: &WindowTotals) {
        self.watched_ms += o.watched_ms;
        self.stalled_ms += o.stalled_ms;
        self.events += o.events;
        self.sessions += o.sessions;
        self.viewers += o.viewers;
        self.shards_flushed += o.shards_flushed;
    }

    pub fn ratio(&self) -> Option<f64> {
        rebuffering_ratio(self.watched_ms, self.stalled_ms)
    }
}

/// One shard's stored contribution to a title x region window.
pub type Group = (String, String, WindowTotals);

/// What a window store answers a flush: for each flushed group in order, its
/// totals summed over every shard's stored `groups` of the same window.
pub fn combined_totals(
    stored: impl IntoIterator<Item = Group>,
    flushed: &[(&str, &str, &PartialWindow)],
) -> Vec<WindowTotals> {
    let all = combine(stored);
    flushed
        .iter()
        .map(|(t, r, _)| {
            all.get(&(t.to_string(), r.to_string()))
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// Sums groups of several shards per title x region.
pub fn combine(groups: impl IntoIterator<Item = Group>) -> HashMap<(String, String), WindowTotals> {
    let mut out: HashMap<(String, String), WindowTotals> = HashMap::new();
    for (title, region, t) in groups {
        out.entry((title, region)).or_default().add(&t);
    }
    out
}

/// A tumbling window, epoch millis, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// Raise when the ratio is at least `baseline + margin` over a big enough sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub baseline_ratio: f64,
    pub margin: f64,
    pub min_sessions: u64,
    pub min_sample_ms: u64,
}

impl AlertRule {
    pub fn threshold(&self) -> f64 {
        self.baseline_ratio + self.margin
    }

    /// The ratio that breaches the rule, or `None`.
    pub fn breach(&self, t: &WindowTotals) -> Option<f64> {
        if t.sessions < self.min_sessions || t.watched_ms + t.stalled_ms < self.min_sample_ms {
            return None;
        }
        t.ratio().filter(|r| *r >= self.threshold())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub title_id: String,
    pub region: String,
    pub window: Window,
    pub ratio: f64,
    pub baseline_ratio: f64,
    pub threshold: f64,
    pub totals: WindowTotals,
    pub raised_at_ms: i64,
}

impl Alert {
    pub fn id(&self) -> String {
        format!("{}#{}#{}", self.title_id, self.region, self.window.start_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_record, Clock};

    fn ev(viewer: &str, session: &str, title: &str, watched: i64, stalled: i64) -> String {
        format!(
            r#"{{"event_id":"{viewer}-{session}-{watched}","event_type":"heartbeat","event_time":"2026-11-23T10:00:00Z","viewer_id":"{viewer}","session_id":"{session}","title_id":"{title}","region":"eu","watched_ms":{watched},"stalled_ms":{stalled}}}"#
        )
    }

    fn window_of(lines: &[String]) -> ShardWindow {
        let data = lines.join("\n");
        let mut w = ShardWindow::default();
        for d in decode_record(data.as_bytes(), Clock::at(1_795_478_399_999)) {
            w.add(&d.result.unwrap());
        }
        w
    }

    #[test]
    fn aggregates_per_title_region_with_distinct_sessions() {
        let w = window_of(&[
            ev("v1", "s1", "t1", 9000, 1000),
            ev("v1", "s1", "t1", 9000, 0),
            ev("v2", "s2", "t1", 5000, 0),
            ev("v3", "s3", "t2", 1000, 0),
        ]);
        let t1 = &w.groups["t1"]["eu"];
        assert_eq!((t1.watched_ms, t1.stalled_ms, t1.events), (23000, 1000, 3));
        assert_eq!((t1.sessions.len(), t1.viewers.len()), (2, 2));
        assert_eq!(w.entries().len(), 2);
        let round = ShardWindow::from_state(&w.to_state()).unwrap();
        assert_eq!(round, w);
    }

    #[test]
    fn rule_needs_sample_and_threshold() {
        let rule = AlertRule {
            baseline_ratio: 0.01,
            margin: 0.04,
            min_sessions: 3,
            min_sample_ms: 10_000,
        };
        let mut t = WindowTotals {
            watched_ms: 90_000,
            stalled_ms: 10_000,
            sessions: 3,
            ..Default::default()
        };
        assert_eq!(rule.breach(&t), Some(0.1));
        t.sessions = 2;
        assert_eq!(rule.breach(&t), None, "below minimum sessions");
        t.sessions = 3;
        t.stalled_ms = 1_000;
        assert_eq!(rule.breach(&t), None, "ratio below threshold");
    }
}
