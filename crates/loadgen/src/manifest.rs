//! The ground-truth ledger of a run: one entry per emitted line, so tests and
//! benchmarks compute expected results without trusting the pipeline.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use playback_domain::metrics::{royalty_minutes, stable_hash, utc_day_hour};
use playback_domain::qoe::{AlertRule, Window, WindowTotals};
use playback_domain::sre::{SreCounts, SreKey};
use playback_domain::{EventType, PlaybackEvent};
use serde::{Deserialize, Serialize};

use crate::config::ScenarioConfig;
use crate::malformed::MalformedKind;
use crate::records::Emitted;

fn is_false(b: &bool) -> bool {
    !*b
}

/// One emitted line, as the generator meant it and as it went out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineEntry {
    /// Index of the record in the emitted stream, and of the line in the record.
    pub record: u64,
    pub line: u32,
    pub event_id: String,
    /// The type the player meant (a malformed line may carry another).
    pub event_type: EventType,
    pub viewer_id: String,
    pub session_id: String,
    /// The title played (a `missing_title_id` line does not carry it).
    pub title_id: String,
    pub region: String,
    pub device_platform: String,
    pub app_version: String,
    /// `event_time` as written in the line (late and future ones included).
    pub event_time_ms: i64,
    /// Simulated time the line was sent (the record's, for a re-send).
    pub emit_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watched_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stalled_ms: Option<i64>,
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<MalformedKind>,
    /// Part of a record re-sent by a producer retry (same bytes as the original).
    #[serde(default, skip_serializing_if = "is_false")]
    pub duplicate: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub late: bool,
    /// A line the SRE signals need (`playback_domain::sre::feeds_sre`: the
    /// quality events and their denominators): also sent to the SRE queue,
    /// once (re-sends of the Kinesis record are not).
    #[serde(default, skip_serializing_if = "is_false")]
    pub sre: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl LineEntry {
    /// The entry of a valid event emitted at `emit_ms`.
    pub fn of(e: &PlaybackEvent<'_>, emit_ms: i64) -> Self {
        LineEntry {
            record: 0,
            line: 0,
            event_id: e.event_id.to_string(),
            event_type: e.event_type,
            viewer_id: e.viewer_id.to_string(),
            session_id: e.session_id.to_string(),
            title_id: e.title_id.to_string(),
            region: e.region.to_string(),
            device_platform: e.device_platform.as_deref().unwrap_or_default().to_string(),
            app_version: e.app_version.as_deref().unwrap_or_default().to_string(),
            event_time_ms: e.event_time_ms,
            emit_ms,
            watched_ms: e.watched_ms,
            stalled_ms: e.stalled_ms,
            valid: true,
            malformed: None,
            duplicate: false,
            late: false,
            sre: playback_domain::sre::feeds_sre(e.event_type),
            error_code: e.error_code.as_deref().map(str::to_string),
        }
    }
}

/// Counts of a run (always kept, even when the lines are not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Generated events (original lines, valid or not).
    pub events: u64,
    /// Lines sent, re-sends included.
    pub lines: u64,
    pub records: u64,
    pub duplicate_records: u64,
    pub bytes: u64,
    pub valid_lines: u64,
    /// Malformed lines sent, re-sends included (what a consumer dead-letters).
    pub malformed_lines: u64,
    /// Malformed original lines by kind.
    pub malformed_by_kind: BTreeMap<MalformedKind, u64>,
    pub duplicate_lines: u64,
    pub late_lines: u64,
    /// Lines sent to the SRE queue.
    pub sre_lines: u64,
    pub first_emit_ms: Option<i64>,
    pub last_emit_ms: Option<i64>,
}

/// Which clock a window is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBasis {
    /// The line's `event_time` (lake, event-time windows).
    EventTime,
    /// When the line was sent (Lambda tumbling windows follow arrival).
    Emit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub config: ScenarioConfig,
    pub summary: Summary,
    pub lines: Vec<LineEntry>,
}

/// Accumulates a [`Summary`] (and, if asked, the lines) as records go out.
#[derive(Debug, Default)]
pub struct Ledger {
    pub summary: Summary,
    lines: Option<Vec<LineEntry>>,
}

impl Ledger {
    pub fn new(keep_lines: bool) -> Self {
        Ledger {
            summary: Summary::default(),
            lines: keep_lines.then(Vec::new),
        }
    }

    pub fn add(&mut self, em: &Emitted) {
        let s = &mut self.summary;
        s.records += 1;
        s.bytes += em.record.data.len() as u64;
        s.duplicate_records += em.record.duplicate_of.is_some() as u64;
        s.first_emit_ms.get_or_insert(em.record.emit_ms);
        s.last_emit_ms = Some(em.record.emit_ms);
        for l in &em.lines {
            s.lines += 1;
            s.events += !l.duplicate as u64;
            s.valid_lines += l.valid as u64;
            s.malformed_lines += !l.valid as u64;
            s.duplicate_lines += l.duplicate as u64;
            s.late_lines += (l.late && !l.duplicate) as u64;
            s.sre_lines += (l.sre && !l.duplicate) as u64;
            if let (Some(k), false) = (l.malformed, l.duplicate) {
                *s.malformed_by_kind.entry(k).or_default() += 1;
            }
        }
        if let Some(lines) = &mut self.lines {
            lines.extend(em.lines.iter().cloned());
        }
    }

    pub fn into_manifest(self, config: ScenarioConfig) -> Manifest {
        Manifest {
            config,
            summary: self.summary,
            lines: self.lines.unwrap_or_default(),
        }
    }
}

impl Manifest {
    /// Valid lines, first occurrence of each event_id only.
    pub fn distinct_valid(&self) -> impl Iterator<Item = &LineEntry> {
        let mut seen = HashSet::new();
        self.lines
            .iter()
            .filter(move |l| l.valid && seen.insert(l.event_id.as_str()))
    }

    pub fn distinct_valid_event_ids(&self) -> BTreeSet<&str> {
        self.distinct_valid().map(|l| l.event_id.as_str()).collect()
    }

    /// Malformed lines a consumer will see (re-sends included).
    /// The bad release's first failing event (event time, ms): the first
    /// error its slice sent once the release started.
    pub fn bad_release_first_failure_ms(&self) -> Option<i64> {
        self.lines
            .iter()
            .filter(|l| self.config.is_release_failure(l))
            .map(|l| l.event_time_ms)
            .min()
    }

    /// Malformed lines sent to the SRE queue (what sre-buffer dead-letters).
    pub fn malformed_sre_lines(&self) -> u64 {
        self.lines
            .iter()
            .filter(|l| !l.valid && l.sre && !l.duplicate)
            .count() as u64
    }

    pub fn malformed_lines(&self) -> u64 {
        self.lines.iter().filter(|l| !l.valid).count() as u64
    }

    /// Summed `watched_ms` per (title, UTC day of event_time) over distinct valid events.
    pub fn watched_ms_by_title_day(&self) -> BTreeMap<(String, String), u64> {
        let mut out = BTreeMap::new();
        for l in self.distinct_valid() {
            let (day, _) = utc_day_hour(l.event_time_ms);
            *out.entry((l.title_id.clone(), day)).or_default() += l.watched_ms.unwrap_or(0) as u64;
        }
        out
    }

    /// Royalty minutes per (title, UTC day): the report's expected answer.
    pub fn minutes_by_title_day(&self) -> BTreeMap<(String, String), f64> {
        self.watched_ms_by_title_day()
            .into_iter()
            .map(|(k, ms)| (k, royalty_minutes(ms)))
            .collect()
    }

    /// Royalty minutes of every title over the event days up to `day` (YYYY-MM-DD).
    pub fn minutes_through(&self, day: &str) -> f64 {
        (self.minutes_by_title_day().iter())
            .filter(|((_, d), _)| d.as_str() <= day)
            .map(|(_, m)| m)
            .sum()
    }

    /// Tumbling-window totals per (title, region, window start) over valid lines;
    /// `dedup` keeps the first occurrence of an event_id only.
    pub fn qoe_windows(
        &self,
        window_ms: i64,
        basis: TimeBasis,
        dedup: bool,
    ) -> BTreeMap<(String, String, i64), WindowTotals> {
        type Acc = (WindowTotals, HashSet<u64>, HashSet<u64>);
        let mut acc: BTreeMap<(String, String, i64), Acc> = BTreeMap::new();
        let mut seen = HashSet::new();
        for l in self.lines.iter().filter(|l| l.valid) {
            if dedup && !seen.insert(l.event_id.as_str()) {
                continue;
            }
            let t = match basis {
                TimeBasis::EventTime => l.event_time_ms,
                TimeBasis::Emit => l.emit_ms,
            };
            let start = t - t.rem_euclid(window_ms);
            let key = (l.title_id.clone(), l.region.clone(), start);
            let (tot, sessions, viewers) = acc.entry(key).or_default();
            tot.watched_ms += l.watched_ms.unwrap_or(0) as u64;
            tot.stalled_ms += l.stalled_ms.unwrap_or(0) as u64;
            tot.events += 1;
            sessions.insert(stable_hash(&[&l.viewer_id, &l.session_id]));
            viewers.insert(stable_hash(&[&l.viewer_id]));
        }
        acc.into_iter()
            .map(|(k, (mut t, s, v))| {
                t.sessions = s.len() as u64;
                t.viewers = v.len() as u64;
                (k, t)
            })
            .collect()
    }

    /// The incident's `[start, end)` in epoch millis.
    pub fn incident_interval_ms(&self) -> Option<(i64, i64)> {
        self.config.incident_interval_ms()
    }

    /// Tumbling windows of `window_ms` that overlap the incident.
    pub fn incident_windows(&self, window_ms: i64) -> Vec<Window> {
        let Some((s, e)) = self.incident_interval_ms() else {
            return Vec::new();
        };
        let mut w = s - s.rem_euclid(window_ms);
        let mut out = Vec::new();
        while w < e {
            out.push(Window {
                start_ms: w,
                end_ms: w + window_ms,
            });
            w += window_ms;
        }
        out
    }

    /// (title, region, window, ratio) of every window that breaches `rule`.
    pub fn expected_alerts(
        &self,
        window_ms: i64,
        rule: &AlertRule,
        basis: TimeBasis,
    ) -> Vec<(String, String, Window, f64)> {
        self.qoe_windows(window_ms, basis, true)
            .into_iter()
            .filter_map(|((title, region, start), t)| {
                let ratio = rule.breach(&t)?;
                let w = Window {
                    start_ms: start,
                    end_ms: start + window_ms,
                };
                Some((title, region, w, ratio))
            })
            .collect()
    }

    /// Per-minute SRE counts of the valid lines sent to the SRE queue: what
    /// sre-buffer must count.
    pub fn sre_counts(&self) -> BTreeMap<SreKey, SreCounts> {
        let mut out: BTreeMap<SreKey, SreCounts> = BTreeMap::new();
        for l in self
            .lines
            .iter()
            .filter(|l| l.sre && l.valid && !l.duplicate)
        {
            let key = SreKey {
                minute_ms: l.event_time_ms - l.event_time_ms.rem_euclid(60_000),
                region: l.region.clone(),
                device_platform: l.device_platform.clone(),
                app_version: l.app_version.clone(),
            };
            out.entry(key).or_default().add(SreCounts::of_fields(
                l.event_type,
                l.error_code.as_deref(),
                l.watched_ms,
                l.stalled_ms,
            ));
        }
        out
    }

    pub fn write_to(&self, path: &std::path::Path) -> Result<(), crate::LoadgenError> {
        use std::io::Write;
        let f = std::fs::File::create(path).map_err(|e| crate::LoadgenError::io(path, e))?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::to_writer(&mut w, self)?;
        w.flush().map_err(|e| crate::LoadgenError::io(path, e))
    }

    pub fn read_from(path: &std::path::Path) -> Result<Self, crate::LoadgenError> {
        let f = std::fs::File::open(path).map_err(|e| crate::LoadgenError::io(path, e))?;
        Ok(serde_json::from_reader(std::io::BufReader::new(f))?)
    }
}
