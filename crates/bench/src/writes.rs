//! Write calls per batch (write amplification), counted by the in-memory
//! twins, and the stored features item's size.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use playback_aws::kinesis_batch::decode_batch;
use playback_domain::features::ViewerFeatures;
use playback_topology::Topology;
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::handlers::{features, lambda_deserialize, qoe, to_batch};
use crate::inputs::EventFile;

/// Write calls per batch, counted by the twins' `faults.write_count()`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Writes {
    /// Batch size in records the counts are for.
    pub batch_records: usize,
    pub batches: usize,
    pub events: usize,
    /// session-features: saves, and the distinct viewers with a valid event.
    pub feature_writes: usize,
    pub distinct_viewers: usize,
    /// qoe-alerts: window flushes, and the title x region groups per window.
    pub window_writes: usize,
    pub title_region_windows: usize,
    /// Sum over windows of the groups an even spread over the catalogue would
    /// give (`cost_model::expected_distinct`): the skew reference.
    pub even_spread_groups: f64,
    pub windows: usize,
    pub alert_writes: usize,
    pub dead_letters: usize,
}

/// Splits a Kinesis event into batches of `size` records (Lambda's BatchSize).
pub fn split(event: &KinesisEvent, size: usize) -> Vec<KinesisEvent> {
    event
        .records
        .chunks(size.max(1))
        .map(|c| {
            let mut e = KinesisEvent::default();
            e.records = c.to_vec();
            e
        })
        .collect()
}

/// session-features in batches of `batch_records` (the deployed BatchSize),
/// on one store: saves vs distinct viewers per batch.
pub fn feature_writes(rt: &Runtime, f: &EventFile, batch_records: usize) -> Writes {
    let event: KinesisEvent = lambda_deserialize(&f.bytes);
    let h = features(BTreeMap::new()).handler;
    let mut distinct = 0;
    let batches = split(&event, batch_records);
    for b in batches.iter().map(to_batch) {
        rt.block_on(h.handle(&b, f.clock));
        distinct += session_features::distinct_viewers(&b, f.clock);
    }
    let dead_letters = h.dead_letters.letters.lock().unwrap().len();
    Writes {
        batch_records,
        batches: batches.len(),
        events: f.events,
        feature_writes: h.store.faults.write_count(),
        distinct_viewers: distinct,
        window_writes: 0,
        title_region_windows: 0,
        even_spread_groups: 0.0,
        windows: 0,
        alert_writes: 0,
        dead_letters,
    }
}

/// qoe-alerts as Lambda drives it on one shard: records grouped into tumbling
/// windows of `window_ms` by arrival time, each window's records in batches of
/// `batch_records` (state carried), the last batch final. Counts window
/// flushes against the distinct title x region groups per window.
pub fn window_writes(
    rt: &Runtime,
    f: &EventFile,
    window_ms: i64,
    batch_records: usize,
    catalogue_groups: f64,
) -> Writes {
    let tw: KinesisTimeWindowEvent = lambda_deserialize(&f.bytes);
    let records = &tw.kinesis_event.records;
    let h = qoe().handler;
    let mut by_window: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let t = r.kinesis.approximate_arrival_timestamp.0.timestamp_millis();
        by_window
            .entry(t - t.rem_euclid(window_ms))
            .or_default()
            .push(i);
    }
    let mut groups = 0;
    let mut even = 0.0;
    let mut batches = 0;
    for (start, idx) in &by_window {
        let window_records: Vec<_> = idx.iter().map(|&i| records[i].clone()).collect();
        let mut whole = KinesisEvent::default();
        whole.records = window_records.clone();
        let whole = to_batch(&whole);
        let decoded = decode_batch(&whole, qoe_alerts::CONSUMER, f.clock);
        even += cost_model::expected_distinct(decoded.events.len() as f64, catalogue_groups);
        groups += decoded
            .events
            .iter()
            .map(|e| (e.event.title_id.as_ref(), e.event.region.as_ref()))
            .collect::<BTreeSet<_>>()
            .len();
        let chunks: Vec<_> = window_records.chunks(batch_records.max(1)).collect();
        let mut state = std::collections::HashMap::new();
        for (k, chunk) in chunks.iter().enumerate() {
            let mut ev = tw.clone();
            ev.kinesis_event.records = chunk.to_vec();
            let p = &mut ev.time_window_properties;
            p.window.start = chrono::DateTime::from_timestamp_millis(*start).expect("window start");
            p.window.end =
                chrono::DateTime::from_timestamp_millis(start + window_ms).expect("window end");
            p.state = state.clone();
            p.is_final_invoke_for_window = k + 1 == chunks.len();
            let (resp, _) = rt.block_on(h.handle(&to_batch(&ev), f.clock)).expect("qoe");
            state = resp.state;
            batches += 1;
        }
    }
    let dead_letters = h.dead_letters.letters.lock().unwrap().len();
    Writes {
        batch_records,
        batches,
        events: f.events,
        feature_writes: 0,
        distinct_viewers: 0,
        window_writes: h.windows.faults.write_count(),
        title_region_windows: groups,
        even_spread_groups: even,
        windows: by_window.len(),
        alert_writes: h.alerts.faults.write_count(),
        dead_letters,
    }
}

/// Size of the stored features item by DynamoDB's rules
/// (`playback_aws::dynamo::item_size` of `features_store::to_item`, the item
/// `DynamoFeatureStore` writes), averaged over the warm items.
pub fn feature_item_bytes(items: &BTreeMap<String, ViewerFeatures>) -> f64 {
    use playback_aws::{dynamo::item_size, features_store::to_item};
    if items.is_empty() {
        return 0.0;
    }
    let ttl = Topology::deployed().features.ttl_secs();
    let total: usize = items.values().map(|f| item_size(&to_item(f, ttl))).sum();
    total as f64 / items.len() as f64
}
