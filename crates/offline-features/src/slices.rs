//! The sharded training build (AWS): one slice is the canonical rows that
//! **arrived** on one UTC day for one bucket of viewers (Athena buckets them
//! by a hash of viewer_id, so a viewer is always in the same bucket). A slice
//! continues from its bucket's [`TrainingState`] at the end of the previous
//! day, so the days chained give the rows of one pass over everything.
//!
//! Slicing by arrival, not event time, is what makes a day's output final: a
//! late event arrives in a later slice and is folded where the stream folded
//! it. A slice writes one file per event day it has labels for,
//! `dt=<event day>/part-<arrival day>-b<bucket>.parquet`, so a re-run of a
//! slice replaces exactly its own files, byte for byte.
//!
//! The layout, under `lake.training_prefix` (Athena reads only `dt=` folders):
//! - `_inputs/day=<D>/bucket=<b>/…parquet`: the UNLOAD of the slice's rows;
//! - `_state/bucket=<bbb>/day=<D>.json.gz`: the state after day D;
//! - `_slices/day=<D>/bucket=<bbb>.json`: the files the slice wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use playback_domain::catalogue::Catalogue;
use playback_domain::lake::LakeRow;
use playback_domain::long_horizon::{LongHorizonFeatures, Run, RunHistory};
use playback_domain::training::{training_rows_from, TrainingState, LABEL_EVENTS};
use serde::{Deserialize, Serialize};

use crate::runs::Manifest;
use crate::training::{day_of, encode, training_prefix, Example};
use crate::OfflineError;

/// The slice's input: `_inputs/day=<D>/` (UNLOAD adds `bucket=<b>/`).
pub fn inputs_prefix(day: &str) -> String {
    format!("{}_inputs/day={day}/", training_prefix())
}

pub fn input_bucket_prefix(day: &str, bucket: u32) -> String {
    format!("{}bucket={bucket}/", inputs_prefix(day))
}

/// Every state of one bucket (the build's history for it).
pub fn state_prefix(bucket: u32) -> String {
    format!("{}_state/bucket={bucket:03}/", training_prefix())
}

pub fn state_key(bucket: u32, day: &str) -> String {
    format!("{}day={day}.json.gz", state_prefix(bucket))
}

pub fn listing_key(day: &str, bucket: u32) -> String {
    format!(
        "{}_slices/day={day}/bucket={bucket:03}.json",
        training_prefix()
    )
}

/// A slice's output file for one event day. `pass`: a slice is built in
/// passes over disjoint viewers (by [`pass_of`]) to bound its memory.
pub fn file_key(event_day: &str, day: &str, bucket: u32, pass: u32) -> String {
    format!(
        "{}dt={event_day}/part-{day}-b{bucket:03}-p{pass:02}.parquet",
        training_prefix()
    )
}

/// The pass of a viewer among `passes` (FNV-1a: stable across builds).
pub fn pass_of(viewer_id: &str, passes: u32) -> u32 {
    let h = viewer_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (h % u64::from(passes.max(1))) as u32
}

/// The day before `day` (`YYYY-MM-DD`), None if it is not a date.
pub fn previous_day(day: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(d.pred_opt()?.format("%Y-%m-%d").to_string())
}

/// What a slice wrote: its files' keys and counts (the listing, and the
/// state machine's report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub day: String,
    pub bucket: u32,
    pub files: Vec<String>,
    pub events: usize,
    pub rows: usize,
    pub viewers: usize,
}

impl Listing {
    /// This listing and another pass's of the same slice.
    pub fn absorb(&mut self, other: Listing) {
        self.files.extend(other.files);
        self.events += other.events;
        self.rows += other.rows;
        self.viewers += other.viewers;
    }
}

/// Which slice, and which pass of it.
#[derive(Debug, Clone, Copy)]
pub struct SliceId<'a> {
    pub day: &'a str,
    pub bucket: u32,
    pub pass: u32,
}

/// A built slice (one pass): Parquet per key and its listing.
pub struct Slice {
    pub files: BTreeMap<String, Vec<u8>>,
    pub listing: Listing,
}

/// The runs whose rows the slice's labels can be served from: the run
/// served at each label's event time (the manifests say when each run was
/// published). Only these runs' files need reading.
pub fn needed_runs(
    rows: &[LakeRow],
    manifests: &[Manifest],
) -> Result<BTreeSet<i64>, OfflineError> {
    let history = history(manifests, BTreeMap::new());
    let mut out = BTreeSet::new();
    for r in rows.iter().filter(|r| is_label(&r.event_type)) {
        let t = lake::parquet_io::parse_timestamp("event_time", &r.event_time)?;
        if let Some(run) = history.served_at(t) {
            out.insert(run.as_of_ms);
        }
    }
    Ok(out)
}

/// Whether a lake row's event type makes a training row.
pub fn is_label(event_type: &str) -> bool {
    LABEL_EVENTS.iter().any(|l| l.as_str() == event_type)
}

/// The viewers with a label in the slice: the only rows of a run it needs.
pub fn label_viewers(rows: &[LakeRow]) -> BTreeSet<&str> {
    rows.iter()
        .filter(|r| is_label(&r.event_type))
        .map(|r| r.viewer_id.as_str())
        .collect()
}

/// A run history from the manifests, with the rows loaded for some runs
/// (the others have none: no label of the slice is served from them).
pub fn history(
    manifests: &[Manifest],
    mut rows: BTreeMap<i64, Vec<LongHorizonFeatures>>,
) -> RunHistory {
    RunHistory::new(
        manifests
            .iter()
            .map(|m| Run {
                as_of_ms: m.as_of_ms,
                published_ms: m.published_ms,
                features: rows
                    .remove(&m.as_of_ms)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| (f.viewer_id.clone(), f))
                    .collect(),
            })
            .collect(),
    )
}

/// The training rows of one slice (or one pass of it: `rows` are then that
/// pass's viewers'), continuing `state` (left at the rows' end), as one
/// Parquet file per event day.
pub fn build(
    state: &mut TrainingState,
    rows: &[LakeRow],
    catalogue: &Catalogue,
    history: &RunHistory,
    id: SliceId<'_>,
) -> Result<Slice, OfflineError> {
    let events = backfill::rows_to_events(rows)?;
    let examples = training_rows_from(
        state,
        events.iter().map(|e| (&e.event, &e.position)),
        catalogue,
        history,
    );
    let mut by_day: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    for row in &examples {
        let lh_published_ms = history.served_at(row.event_time_ms).map(|r| r.published_ms);
        by_day
            .entry(day_of(row.event_time_ms))
            .or_default()
            .push(Example {
                row,
                lh_published_ms,
            });
    }
    let mut files = BTreeMap::new();
    for (event_day, mut ex) in by_day {
        files.insert(
            file_key(&event_day, id.day, id.bucket, id.pass),
            encode(&mut ex)?,
        );
    }
    let viewers: BTreeSet<&str> = events.iter().map(|e| e.event.viewer_id.as_ref()).collect();
    let listing = Listing {
        day: id.day.to_string(),
        bucket: id.bucket,
        files: files.keys().cloned().collect(),
        events: events.len(),
        rows: examples.len(),
        viewers: viewers.len(),
    };
    Ok(Slice { files, listing })
}

/// The state as stored: gzip of its JSON (viewer features repeat their field
/// names; gzip takes most of that back).
pub fn encode_state(state: &TrainingState) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut gz, state).expect("a training state serialises");
    gz.finish().expect("gzip into memory")
}

pub fn decode_state(bytes: &[u8], key: &str) -> Result<TrainingState, OfflineError> {
    let mut json = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|e| OfflineError::io(key, e))?;
    serde_json::from_slice(&json).map_err(|source| OfflineError::Manifest {
        path: key.to_string(),
        source,
    })
}

/// A listing's JSON.
pub fn encode_listing(l: &Listing) -> Vec<u8> {
    let mut out = Vec::new();
    out.write_all(&serde_json::to_vec_pretty(l).expect("a listing serialises"))
        .expect("write into memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_day_and_stay_outside_the_tables_partitions() {
        assert_eq!(previous_day("2026-03-01").as_deref(), Some("2026-02-28"));
        assert_eq!(previous_day("not a day"), None);
        assert!(state_key(7, "2026-03-01") < state_key(7, "2026-03-02"));
        assert!(state_key(7, "2026-03-01").contains("/_state/bucket=007/"));
        assert!(file_key("2026-03-01", "2026-03-02", 7, 1)
            .ends_with("dt=2026-03-01/part-2026-03-02-b007-p01.parquet"));
        let passes: BTreeSet<u32> = (0..100).map(|i| pass_of(&format!("v{i}"), 4)).collect();
        assert_eq!(passes.len(), 4);
        assert_eq!(pass_of("v1", 1), 0);
        assert!(input_bucket_prefix("2026-03-02", 7).ends_with("_inputs/day=2026-03-02/bucket=7/"));
    }

    #[test]
    fn a_state_round_trips() {
        let mut s = TrainingState::default();
        s.open_plays.insert("v s t".into(), 42);
        s.viewers.insert(
            "v".into(),
            playback_domain::features::ViewerFeatures::new("v"),
        );
        let bytes = encode_state(&s);
        assert_eq!(decode_state(&bytes, "k").unwrap(), s);
        assert!(decode_state(b"not gzip", "k").is_err());
    }
}
