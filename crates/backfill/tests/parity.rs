//! Training/serving parity: the features the stream consumer writes equal the
//! features the backfill recomputes from the lake, for every viewer and field,
//! on a generated scenario (packing, producer retries, late events, malformed
//! lines, two shards); and so do the QoE window totals.
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use backfill::windows::window_of;
use backfill::{fold_viewers, recompute_windows, rows_to_events};
use base64::Engine;
use lake::{read_rows, LakeRow, MemoryStore};
use loadgen::{BadFirmware, Incident, ScenarioConfig};
use local_pipeline::{FirehoseConfig, FirehoseEmulator, StreamRecord};
use playback_aws::kinesis_batch::{decode_batch, KinesisBatch};
use playback_domain::memory::{MemoryDeadLetters, MemoryFeatureStore, MemoryWindowStore};
use playback_domain::ports::WindowStore;
use playback_domain::qoe::{AlertRule, ShardWindow, Window};
use playback_domain::Clock;
use session_features::SessionFeatures;

const SHARDS: u64 = 2;
const BATCH: usize = 100;
const WINDOW_MS: i64 = 10_000;

fn scenario() -> ScenarioConfig {
    ScenarioConfig {
        seed: 20_261_123,
        viewers: 400,
        titles: 12,
        rate: 40.0,
        duration_s: Some(120.0),
        pack_bytes: 1_500,
        pack_linger_s: 4.0,
        retry_rate: 0.05,
        late_rate: 0.05,
        late_hours: 3.0,
        bad_firmware: Some(BadFirmware {
            app_version: "*".into(),
            rate: 0.02,
        }),
        incident: Some(Incident {
            title_id: "t0001".into(),
            region: "us-east".into(),
            start_s: 30.0,
            duration_s: 60.0,
            stall_fraction: 0.3,
        }),
        ..Default::default()
    }
}

/// Kinesis' routing stand-in: a stable hash of the partition key.
fn shard_of(key: &str) -> u64 {
    playback_domain::metrics::stable_hash(&[key]) % SHARDS
}

/// The scenario's records as the stream holds them: per shard, increasing
/// sequence numbers (crossing 9999 -> 10000, so a string sort would be
/// wrong) and non-decreasing arrival times a little after the send.
fn stream_records(cfg: &ScenarioConfig) -> (Vec<StreamRecord>, usize) {
    let run = loadgen::generate(cfg).expect("scenario");
    let mut next_seq = [9_900u64; SHARDS as usize];
    let mut last_arrival = [i64::MIN; SHARDS as usize];
    let records = run
        .records
        .iter()
        .map(|r| {
            let s = shard_of(&r.partition_key) as usize;
            next_seq[s] += 13;
            let arrival = (r.emit_ms + 20 + (r.index % 7) as i64 * 15).max(last_arrival[s]);
            last_arrival[s] = arrival;
            StreamRecord {
                shard_id: format!("shardId-{s:012}"),
                sequence_number: next_seq[s].to_string(),
                partition_key: r.partition_key.clone(),
                arrival_ms: arrival,
                data: r.data.clone(),
            }
        })
        .collect();
    (records, run.manifest.malformed_lines() as usize)
}

/// Lambda's event of one batch of one shard.
fn kinesis_event(batch: &[&StreamRecord]) -> KinesisBatch {
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<_> = batch
        .iter()
        .map(|r| {
            serde_json::json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": b64.encode(&r.data),
                    "approximateArrivalTimestamp": r.arrival_ms.div_euclid(1000),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", r.shard_id, r.sequence_number),
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/playback-events",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).expect("event shape")
}

/// Per-shard batches of at most BATCH records, shards interleaved.
fn batches(records: &[StreamRecord]) -> Vec<Vec<&StreamRecord>> {
    let mut per_shard: BTreeMap<&str, Vec<&StreamRecord>> = BTreeMap::new();
    for r in records {
        per_shard.entry(&r.shard_id).or_default().push(r);
    }
    let chunks: Vec<Vec<Vec<&StreamRecord>>> = per_shard
        .values()
        .map(|rs| rs.chunks(BATCH).map(<[_]>::to_vec).collect())
        .collect();
    let longest = chunks.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| chunks.iter().filter_map(move |c| c.get(i).cloned()))
        .collect()
}

/// The lake path: Firehose (de-aggregation, transform Lambda, Parquet,
/// dt/hour partitions) second by second of arrival, then every lake object read back.
async fn land(records: &[StreamRecord]) -> (Vec<LakeRow>, usize) {
    let mut by_arrival: Vec<StreamRecord> = records.to_vec();
    by_arrival.sort_by_key(|r| r.arrival_ms);
    let cfg = FirehoseConfig::from_topology().with_buffering(64 << 10, 30_000);
    let prefix = cfg.prefix.clone();
    let store = MemoryStore::new();
    let mut fh = FirehoseEmulator::new(cfg, store.clone());
    for chunk in by_arrival.chunk_by(|a, b| a.arrival_ms / 1000 == b.arrival_ms / 1000) {
        let now = (chunk[0].arrival_ms / 1000 + 1) * 1000;
        fh.put_at(chunk, now).expect("put");
        fh.flush_due(now).await.expect("flush");
    }
    fh.flush_all().await.expect("flush all");
    let keys = store.keys_under(&prefix);
    let mut files: Vec<Vec<LakeRow>> = keys
        .iter()
        .map(|k| read_rows(&store.get(k).unwrap()).expect("parquet"))
        .collect();
    // Nothing orders a lake scan across objects (files of an hour, parallel
    // readers, Athena splits): hand the backfill the objects in a scrambled
    // order, one of them twice (Firehose delivers at least once). Within an
    // object the rows keep Firehose's order: the lines of a packed record
    // share one position (subsequenceNumber 0) and only that order tells them apart.
    let mut x = 0x5eed_u64;
    for i in (1..files.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        files.swap(i, (x >> 33) as usize % (i + 1));
    }
    if let Some(again) = files.get(files.len() / 2).cloned() {
        files.push(again);
    }
    let rows = files.into_iter().flatten().collect();
    (rows, keys.len())
}

fn rule() -> AlertRule {
    AlertRule {
        baseline_ratio: 0.01,
        margin: 0.04,
        min_sessions: 2,
        min_sample_ms: 10_000,
    }
}

#[tokio::test]
async fn backfill_from_the_lake_equals_the_stream() {
    let started = Instant::now();
    let (records, malformed) = stream_records(&scenario());
    let clock = Clock::at(records.iter().map(|r| r.arrival_ms).max().unwrap() + 60_000);

    // (a) The stream: session-features batch after batch, one replay.
    let handler = SessionFeatures {
        store: MemoryFeatureStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        metrics: Default::default(),
    };
    let batches = batches(&records);
    let (mut stream_events, mut dead) = (0, 0);
    let windows = MemoryWindowStore::default();
    let mut shard_windows: BTreeMap<(i64, String), ShardWindow> = BTreeMap::new();
    for (i, batch) in batches.iter().enumerate() {
        let event = kinesis_event(batch);
        let (resp, report) = handler.handle(&event, clock).await;
        assert!(resp.batch_item_failures.is_empty(), "batch {i}");
        (stream_events, dead) = (stream_events + report.events, dead + report.dead_letters);
        // The QoE side of the same batch: each event into its shard's window
        // (by the record's arrival), as qoe-alerts folds its invocations.
        for e in decode_batch(&event, "qoe-alerts", clock).events {
            let r = batch[e.record];
            let start = r.arrival_ms - r.arrival_ms.rem_euclid(WINDOW_MS);
            shard_windows
                .entry((start, r.shard_id.clone()))
                .or_default()
                .add(&e.event);
        }
        if i == 5 {
            // Lambda retries an earlier batch (and this one): nothing changes.
            let before = handler.store.items.lock().unwrap().clone();
            for again in [&batches[2], batch] {
                let (_, report) = handler.handle(&kinesis_event(again), clock).await;
                assert_eq!(report.viewers_written, 0, "a replayed batch writes nothing");
            }
            assert_eq!(*handler.store.items.lock().unwrap(), before);
        }
    }
    for ((start, shard), sw) in &shard_windows {
        let bounds = Window {
            start_ms: *start,
            end_ms: start + WINDOW_MS,
        };
        windows
            .flush_shard(bounds, shard, &sw.entries())
            .await
            .unwrap();
    }
    let stream_features = handler.store.items.lock().unwrap().clone();

    // (b) The lake: Firehose -> Parquet -> read_rows -> backfill.
    let (rows, files) = land(&records).await;
    let events = rows_to_events(&rows).expect("every lake row is valid");
    let lake_features = fold_viewers(&events);

    eprintln!(
        "parity: {} records ({} per batch max, {} batches + 2 replayed) -> {stream_events} events, \
         {dead} dead letters ({malformed} malformed lines); lake: {files} Parquet files, {} rows; \
         {} viewers; {:.2}s",
        records.len(),
        BATCH,
        batches.len(),
        rows.len(),
        lake_features.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        stream_events > 2_000 && lake_features.len() > 200,
        "a real scenario"
    );
    assert!(
        malformed > 0 && dead == malformed,
        "malformed lines are dead letters"
    );
    assert!(rows.len() > stream_events, "one object landed twice");
    assert_eq!(
        events.len(),
        stream_events,
        "the backfill replays every valid event once"
    );
    assert_eq!(
        lake_features.keys().collect::<Vec<_>>(),
        stream_features.keys().collect::<Vec<_>>()
    );
    for (viewer, f) in &stream_features {
        assert_eq!(&lake_features[viewer], f, "features of {viewer}");
    }
    assert_eq!(lake_features, stream_features);
    // Backfilling into the table the stream filled changes nothing.
    let report = backfill::write_features(&handler.store, &events)
        .await
        .unwrap();
    assert_eq!(
        (report.written, report.unchanged),
        (0, stream_features.len())
    );
    // Non-trivial: retries absorbed (applied < positions), stale sessions, skips.
    let applied: u64 = lake_features.values().map(|f| f.events_applied).sum();
    assert!(
        (applied as usize) < stream_events,
        "producer retries were dropped"
    );

    // QoE: the recomputed windows equal the stream's combined windows.
    let recomputed = recompute_windows(&events, WINDOW_MS, &rule());
    let stream_windows = windows.combined();
    assert_eq!(recomputed.len(), stream_windows.len());
    for r in &recomputed {
        let key = (r.title_id.clone(), r.region.clone(), r.window.start_ms);
        let (totals, shards) = &stream_windows[&key];
        assert_eq!(&r.totals, totals, "{key:?}");
        assert_eq!(r.totals.shards_flushed as usize, shards.len());
        assert_eq!(r.alert, rule().breach(totals).is_some());
        assert_eq!(window_of(r.window.start_ms, WINDOW_MS), r.window);
    }
    let alerts = recomputed.iter().filter(|r| r.alert).count();
    eprintln!(
        "parity: {} title x region windows, {alerts} alerting",
        recomputed.len()
    );
    assert!(alerts > 0, "the incident raises alerts");
    assert!(recomputed.iter().any(|r| r.totals.shards_flushed == 2));
}
