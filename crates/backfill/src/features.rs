//! Per-viewer features from replayed events, computed only by
//! `playback_domain::features` (`fold_features` / `ViewerFeatures::apply`).
//!
//! Viewers never span shards (the partition key is the viewer), so folding
//! the events in per-shard stream order gives every viewer its events in the
//! order the stream consumer saw them.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};
use playback_domain::features::{fold_features, save_viewer, ViewerFeatures};
use playback_domain::ports::FeatureStore;
use playback_domain::{PlaybackEvent, StreamPosition};

use crate::replay::ReplayEvent;
use crate::BackfillError;

/// Concurrent store writes.
const WRITE_CONCURRENCY: usize = 16;
/// Viewers loaded per `FeatureStore::load` call (DynamoDB BatchGetItem pages itself).
const LOAD_CHUNK: usize = 500;
/// Features of every viewer in `events` (in stream order), from nothing.
pub fn fold_viewers(events: &[ReplayEvent]) -> BTreeMap<String, ViewerFeatures> {
    fold_features(
        &BTreeMap::new(),
        events.iter().map(|e| (&e.event, &e.position)),
    )
    .into_iter()
    .map(|(viewer, (features, _token))| (viewer, features))
    .collect()
}

/// What [`write_features`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub viewers: usize,
    /// Viewers whose item changed.
    pub written: usize,
    /// Viewers whose stored position was already past every replayed event.
    pub unchanged: usize,
}

/// Replays events into a feature store the way the stream consumer writes it:
/// each viewer is folded onto its stored state and saved once, conditioned on
/// the stored position. Events at or before a viewer's stored position are
/// skipped, so backfilling over a table the stream already filled (or running
/// the backfill twice) changes nothing.
pub async fn write_features<F: FeatureStore>(
    store: &F,
    events: &[ReplayEvent],
) -> Result<StoreReport, BackfillError> {
    let mut by_viewer: BTreeMap<&str, Vec<&ReplayEvent>> = BTreeMap::new();
    for e in events {
        by_viewer
            .entry(e.event.viewer_id.as_ref())
            .or_default()
            .push(e);
    }
    let mut report = StoreReport {
        viewers: by_viewer.len(),
        ..Default::default()
    };
    type Pairs<'b> = Vec<(&'b PlaybackEvent<'b>, &'b StreamPosition)>;
    let viewers: Vec<(&str, Pairs<'_>)> = by_viewer
        .into_iter()
        .map(|(v, evs)| (v, evs.iter().map(|e| (&e.event, &e.position)).collect()))
        .collect();
    for chunk in viewers.chunks(LOAD_CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|(v, _)| v.to_string()).collect();
        let stored = store.load(&ids).await?;
        let written: Vec<bool> = stream::iter(chunk.iter())
            .map(|(viewer, evs)| save_viewer(store, viewer, stored.get(*viewer).cloned(), evs))
            .buffer_unordered(WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        let n = written.iter().filter(|w| **w).count();
        report.written += n;
        report.unchanged += written.len() - n;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::rows_to_events;
    use playback_domain::lake::LakeRow;
    use playback_domain::memory::MemoryFeatureStore;

    /// Two shards, sequence numbers crossing 99 -> 100 (a string sort would
    /// misorder them), packed records, session changes, skips, saves, a late
    /// event and a producer retry.
    fn rows() -> Vec<LakeRow> {
        let kinds = ["session_start", "heartbeat", "skip", "save", "heartbeat"];
        let mut rows = Vec::new();
        for shard in 0..2 {
            for seq in 90..110u32 {
                for sub in 0..(seq % 3 + 1) {
                    let k = (seq * 7 + sub) as usize;
                    let viewer = format!("v{shard}{}", k % 3);
                    let late = if matches!(k % 11, 0) { "09" } else { "10" };
                    let retry = matches!(k % 13, 0);
                    let id = if retry { 1 } else { seq * 10 + sub };
                    rows.push(LakeRow {
                        event_id: format!("e-{viewer}-{id}"),
                        event_type: kinds[k % kinds.len()].into(),
                        event_time: format!("2026-11-23T{late}:{:02}:{:02}.000Z", seq % 60, sub),
                        session_id: format!("s{}", seq / 7),
                        title_id: format!("t{}", k % 5),
                        region: ["eu", "us"][k % 2].into(),
                        watched_ms: Some(k as i64 * 100),
                        stalled_ms: matches!(k % 4, 0).then_some(50),
                        bitrate_kbps: None,
                        position_ms: None,
                        device_platform: Some(["tv", "web"][k % 2].into()),
                        app_version: None,
                        error_code: None,
                        startup_ms: None,
                        schema_version: 1,
                        ingest_time: format!("2026-11-23T10:{:02}:{:02}.500Z", seq % 60, sub),
                        ingest_shard: format!("shardId-00000000000{shard}"),
                        ingest_seq: seq.to_string(),
                        ingest_sub: sub,
                        viewer_id: viewer,
                    });
                }
            }
        }
        rows
    }

    /// Fisher-Yates with a fixed LCG (no rand dependency needed).
    fn shuffle(rows: &mut [LakeRow], seed: u64) {
        let mut x = seed;
        for i in (1..rows.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            rows.swap(i, (x >> 33) as usize % (i + 1));
        }
    }

    #[test]
    fn shuffled_rows_give_the_same_features_and_windows() {
        let rows = rows();
        let base = rows_to_events(&rows).unwrap();
        let want = fold_viewers(&base);
        let want_w = crate::recompute_windows(&base, 10_000, &crate::windows::default_rule());
        for seed in [1u64, 2, 3] {
            let mut shuffled = rows.clone();
            shuffle(&mut shuffled, seed);
            assert_ne!(shuffled, rows);
            let evs = rows_to_events(&shuffled).unwrap();
            assert_eq!(evs, base, "seed {seed}");
            assert_eq!(fold_viewers(&evs), want, "seed {seed}");
            let w = crate::recompute_windows(&evs, 10_000, &crate::windows::default_rule());
            assert_eq!(w, want_w);
        }
        // The order matters at all: folding the rows as stored differs.
        let unsorted: Vec<ReplayEvent> = rows
            .iter()
            .rev()
            .map(|r| rows_to_events(std::slice::from_ref(r)).unwrap().remove(0))
            .collect();
        assert_ne!(
            fold_viewers(&unsorted),
            want,
            "the fixture is order-sensitive"
        );
    }

    #[tokio::test]
    async fn store_backfill_equals_fold_and_is_replay_safe() {
        let evs = rows_to_events(&rows()).unwrap();
        let store = MemoryFeatureStore::default();
        let first = write_features(&store, &evs).await.unwrap();
        assert_eq!(first.written, first.viewers);
        assert_eq!(*store.items.lock().unwrap(), fold_viewers(&evs));
        let writes = store.faults.write_count();
        let again = write_features(&store, &evs).await.unwrap();
        assert_eq!((again.written, again.unchanged), (0, first.viewers));
        assert_eq!(store.faults.write_count(), writes, "no write on a re-run");
    }
}
