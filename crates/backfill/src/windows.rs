//! QoE windows recomputed from the lake, on the basis Lambda's tumbling
//! windows use: the record's arrival time, in windows of `window_ms` aligned
//! to the epoch. Each shard's events of a window fold into a `ShardWindow`
//! (as qoe-alerts folds its invocations), the partials of all shards are
//! combined as the window store combines flushes (sums; distinct sessions and
//! viewers add up because viewers never span shards), and the `AlertRule`
//! judges the combined totals.

use std::collections::BTreeMap;
use std::io::Write;

use playback_domain::event::format_rfc3339_ms;
use playback_domain::qoe::{AlertRule, ShardWindow, Window, WindowTotals};

use crate::replay::ReplayEvent;
use crate::BackfillError;

/// One title x region x window, for retraining and analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub window: Window,
    pub title_id: String,
    pub region: String,
    pub totals: WindowTotals,
    /// Rebuffering ratio (None without watch time).
    pub ratio: Option<f64>,
    pub threshold: f64,
    /// The rule's verdict on the combined totals of every shard.
    pub alert: bool,
}

/// The alert rule of infra/pipeline.json (what qoe-alerts runs with by default).
pub fn default_rule() -> AlertRule {
    playback_topology::Topology::deployed().alerts.rule()
}

/// The tumbling window of an arrival time.
pub fn window_of(arrival_ms: i64, window_ms: i64) -> Window {
    let start_ms = arrival_ms - arrival_ms.rem_euclid(window_ms);
    Window {
        start_ms,
        end_ms: start_ms + window_ms,
    }
}

/// Per (window start, shard) state, as each shard's qoe-alerts would hold it.
pub fn shard_windows(
    events: &[ReplayEvent],
    window_ms: i64,
) -> BTreeMap<(i64, String), ShardWindow> {
    let mut out: BTreeMap<(i64, String), ShardWindow> = BTreeMap::new();
    for e in events {
        let w = window_of(e.arrival_ms, window_ms);
        out.entry((w.start_ms, e.shard.clone()))
            .or_default()
            .add(&e.event);
    }
    out
}

/// Combined totals of every title x region x window, ordered by window, title, region.
pub fn recompute_windows(
    events: &[ReplayEvent],
    window_ms: i64,
    rule: &AlertRule,
) -> Vec<WindowRow> {
    let mut combined: BTreeMap<(i64, String, String), WindowTotals> = BTreeMap::new();
    for ((start, _shard), sw) in shard_windows(events, window_ms) {
        for (title, region, p) in sw.entries() {
            let t = combined
                .entry((start, title.to_string(), region.to_string()))
                .or_default();
            t.watched_ms += p.watched_ms;
            t.stalled_ms += p.stalled_ms;
            t.events += p.events;
            t.sessions += p.sessions.len() as u64;
            t.viewers += p.viewers.len() as u64;
            t.shards_flushed += 1;
        }
    }
    combined
        .into_iter()
        .map(|((start_ms, title_id, region), totals)| WindowRow {
            window: Window {
                start_ms,
                end_ms: start_ms + window_ms,
            },
            title_id,
            region,
            ratio: totals.ratio(),
            threshold: rule.threshold(),
            alert: rule.breach(&totals).is_some(),
            totals,
        })
        .collect()
}

pub const CSV_HEADER: &str = "window_start,window_end,title_id,region,watched_ms,stalled_ms,events,sessions,viewers,shards,rebuffering_ratio,threshold,alert";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the rows as CSV (header first; times RFC 3339 UTC).
pub fn write_windows_csv(rows: &[WindowRow], mut w: impl Write) -> Result<(), BackfillError> {
    let io = |e: std::io::Error| BackfillError::io("windows csv", e);
    writeln!(w, "{CSV_HEADER}").map_err(io)?;
    for r in rows {
        let t = &r.totals;
        let ratio = r.ratio.map(|x| format!("{x:.6}")).unwrap_or_default();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            format_rfc3339_ms(r.window.start_ms),
            format_rfc3339_ms(r.window.end_ms),
            csv_field(&r.title_id),
            csv_field(&r.region),
            t.watched_ms,
            t.stalled_ms,
            t.events,
            t.sessions,
            t.viewers,
            t.shards_flushed,
            ratio,
            r.threshold,
            r.alert
        )
        .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_to_the_epoch() {
        let w = window_of(1_795_428_005_123, 10_000);
        assert_eq!(
            (w.start_ms, w.end_ms),
            (1_795_428_000_000, 1_795_428_010_000)
        );
        assert_eq!(window_of(-1, 10_000).start_ms, -10_000);
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let row = WindowRow {
            window: window_of(0, 10_000),
            title_id: "t,1".into(),
            region: "eu".into(),
            totals: WindowTotals {
                watched_ms: 90_000,
                stalled_ms: 10_000,
                events: 4,
                sessions: 5,
                viewers: 5,
                shards_flushed: 2,
            },
            ratio: Some(0.1),
            threshold: 0.05,
            alert: true,
        };
        let mut out = Vec::new();
        write_windows_csv(&[row], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(line, "1970-01-01T00:00:00.000Z,1970-01-01T00:00:10.000Z,\"t,1\",eu,90000,10000,4,5,5,2,0.100000,0.05,true");
        assert_eq!(default_rule().min_sample_ms, 60_000);
    }
}
