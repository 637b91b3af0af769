//! The batch half of the recommender's features on a few days of a local
//! lake (features_lake): the batch query against the domain definition, the
//! skew proof, the no-leakage proof and the idempotent training re-run.

mod canonical_lake;
mod features_lake;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{ensure, Result};
use base64::Engine;
use features_lake::{lake, run_batch, Delivered, DAY_MS, START_MS};
use offline_features::runs::{self, Manifest};
use offline_features::training;
use playback_domain::features::ViewerFeatures;
use playback_domain::long_horizon::{compute, RunHistory};
use playback_domain::memory::{MemoryDeadLetters, MemoryFeatureStore};
use playback_domain::ports::FeatureStore;
use playback_domain::training::{served, training_rows, TrainingRow, LABEL_EVENTS};
use playback_domain::{decode_record, Clock};
use session_features::{App, SessionFeatures};

fn rows_of(events: &[backfill::ReplayEvent], history: &RunHistory) -> Vec<TrainingRow> {
    let l = lake();
    training_rows(
        events.iter().map(|e| (&e.event, &e.position)),
        &l.catalogue,
        history,
    )
}

/// The batch SQL (DuckDB here, Athena on AWS) and the Rust definition give
/// the same features on the same canonical rows, field for field, at a
/// cutoff between days and one inside a day (late heartbeats that arrived
/// after it are out of both).
#[test]
fn the_batch_query_equals_the_domain_definition() -> Result<()> {
    let l = lake();
    for as_of in [
        START_MS + 2 * DAY_MS + 12 * 3_600_000,
        START_MS + 3 * DAY_MS + 7 * 3_600_000,
    ] {
        run_batch(&l.dir, as_of)?;
        let sql: BTreeMap<_, _> = runs::read_run_dir(&l.dir, as_of)?
            .into_iter()
            .map(|f| (f.viewer_id.clone(), f))
            .collect();
        let rust = compute(
            l.events.iter().map(|e| (&e.event, e.arrival_ms)),
            &l.catalogue,
            as_of,
        );
        ensure!(sql.len() > 100, "viewers in the run: {}", sql.len());
        ensure!(
            sql.values().filter(|f| f.top_genres.len() == 3).count() > 50
                && sql.values().any(|f| f.completion_bp.is_some_and(|c| c > 0)),
            "a run with shares and completions"
        );
        for (viewer, f) in &rust {
            ensure!(
                sql.get(viewer) == Some(f),
                "{viewer}: rust {f:?}\nsql {:?}",
                sql.get(viewer)
            );
        }
        ensure!(
            sql.len() == rust.len(),
            "viewers: sql {} rust {}",
            sql.len(),
            rust.len()
        );
    }
    Ok(())
}

/// A Lambda event of one record.
fn payload(r: &Delivered) -> String {
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/playback-events";
    serde_json::json!({"Records": [{
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": r.sequence_number,
            "data": base64::engine::general_purpose::STANDARD.encode(&r.data),
            "approximateArrivalTimestamp": r.arrival_ms.div_euclid(1_000),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", r.shard, r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda",
        "awsRegion": "us-east-1",
        "eventSourceARN": arn,
    }]})
    .to_string()
}

/// The skew proof: the stream, retries and all, through the live
/// session-features handler (in-memory twin store), one record per
/// invocation; for every label event, the online item right after the
/// viewer's previous event equals the training row's session features,
/// which come from replaying the canonical table through the same fold.
#[tokio::test]
async fn training_rows_hold_what_the_online_store_served() -> Result<()> {
    let l = lake();
    let app = App::new(SessionFeatures {
        store: MemoryFeatureStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        metrics: playback_aws::emf::Metrics::memory(),
    });
    let mut served_before: BTreeMap<String, ViewerFeatures> = BTreeMap::new();
    for r in &l.stream {
        let events: Vec<_> = decode_record(&r.data, Clock::at(r.arrival_ms))
            .into_iter()
            .filter_map(|d| d.result.ok().map(|e| e.into_owned()))
            .collect();
        let mut before = BTreeMap::new();
        for e in &events {
            let v = e.viewer_id.to_string();
            let stored = app.handler.store.load(std::slice::from_ref(&v)).await?;
            let f = stored
                .get(&v)
                .cloned()
                .unwrap_or_else(|| ViewerFeatures::new(&v));
            before.insert(e.event_id.to_string(), (v, f));
        }
        let (resp, _) = app.invoke_at(&payload(r), Clock::at(r.arrival_ms)).await?;
        ensure!(resp.batch_item_failures.is_empty(), "no failures");
        for e in events
            .iter()
            .filter(|e| LABEL_EVENTS.contains(&e.event_type))
        {
            let (v, f) = &before[e.event_id.as_ref()];
            let after = &app.handler.store.load(std::slice::from_ref(v)).await?[v];
            // Absorbed here (a retry of an absorbed event changes nothing).
            if after.events_applied > f.events_applied
                && !served_before.contains_key(e.event_id.as_ref())
            {
                served_before.insert(e.event_id.to_string(), served(f));
            }
        }
    }
    let rows = rows_of(&l.events, &RunHistory::default());
    ensure!(rows.len() > 1_000, "label rows: {}", rows.len());
    let by_id: BTreeMap<&str, &TrainingRow> =
        rows.iter().map(|r| (r.event_id.as_str(), r)).collect();
    ensure!(by_id.len() == rows.len(), "one row per event_id");
    ensure!(
        served_before.len() == rows.len(),
        "label events: online {} training {}",
        served_before.len(),
        rows.len()
    );
    for (id, online) in &served_before {
        let row = by_id
            .get(id.as_str())
            .ok_or_else(|| anyhow::anyhow!("{id}: no training row"))?;
        ensure!(
            &row.session == online,
            "{id}: online {online:?}\ntraining {:?}",
            row.session
        );
    }
    Ok(())
}

/// No leakage: every row's long-horizon features come from the latest run
/// published at or before its event, never a later one; before the first
/// publish there are none.
#[test]
fn long_horizon_features_are_never_from_a_later_run() -> Result<()> {
    let l = lake();
    let dir = &l.dir;
    // The daily run: a midnight cutoff, started at 02:00, published by 03:30.
    let mut published = BTreeMap::new();
    for d in 1..=3 {
        let as_of = START_MS + d * DAY_MS;
        run_batch(dir, as_of)?;
        let m = Manifest {
            as_of_ms: as_of,
            published_ms: as_of + 3 * 3_600_000 + 30 * 60_000,
            viewers: runs::read_run_dir(dir, as_of)?.len(),
            written: 0,
            stale: 0,
        };
        runs::write_manifest(dir, &m)?;
        published.insert(as_of, m.published_ms);
    }
    let history = runs::load_history(dir)?;
    ensure!(history.runs().len() == 3, "runs");
    let rows = rows_of(&l.events, &history);
    let mut used = BTreeSet::new();
    for r in &rows {
        let latest = published
            .iter()
            .filter(|(_, p)| **p <= r.event_time_ms)
            .map(|(a, _)| *a)
            .max();
        let got = r.long_horizon.as_ref().map(|f| f.as_of_ms);
        if let Some(as_of) = got {
            ensure!(
                published[&as_of] <= r.event_time_ms,
                "{}: leaked run {as_of}",
                r.event_id
            );
            used.insert(as_of);
        }
        // A viewer with no events in the run's window has no row in it.
        let expected = latest.filter(|a| {
            history
                .runs()
                .iter()
                .any(|run| run.as_of_ms == *a && run.features.contains_key(&r.viewer_id))
        });
        ensure!(
            got == expected,
            "{}: run {got:?}, latest published {latest:?}",
            r.event_id
        );
    }
    ensure!(used.len() == 3, "every run feeds some rows: {used:?}");
    ensure!(
        rows.iter().any(|r| r.long_horizon.is_none()),
        "rows before the first publish"
    );
    Ok(())
}

/// Re-running the training job replaces each day byte for byte, and a
/// producer retry (every copy of the raw log replayed) makes no second row:
/// one row per label event among the manifest's distinct valid events.
#[test]
fn a_training_rerun_is_byte_identical_and_retries_make_no_second_row() -> Result<()> {
    let l = lake();
    let history = RunHistory::default();
    let rows = rows_of(&l.events, &history);
    let out = l.dir.join("rerun");
    let first = training::write_days(&out, &rows, &history, None)?;
    ensure!(first.len() >= 3, "days: {first:?}");
    let bytes = |d: &str| std::fs::read(training::partition_dir(&out, d).join("part-0.parquet"));
    let before: Vec<Vec<u8>> = first.keys().map(|d| bytes(d)).collect::<Result<_, _>>()?;
    let again = training::write_days(&out, &rows, &history, None)?;
    ensure!(again == first, "same rows per day");
    for (d, b) in first.keys().zip(&before) {
        ensure!(&bytes(d)? == b, "{d}: bytes differ");
    }
    let labels =
        l.g.manifest
            .distinct_valid()
            .filter(|e| LABEL_EVENTS.contains(&e.event_type))
            .count();
    ensure!(
        first.values().sum::<usize>() == labels,
        "rows {first:?} = label events {labels}"
    );
    let with_retries = rows_of(&backfill::rows_to_events(&l.raw)?, &history);
    ensure!(
        l.raw.len() > l.events.len(),
        "the raw log has retried copies"
    );
    ensure!(
        with_retries.len() == labels,
        "retries: {} rows",
        with_retries.len()
    );
    Ok(())
}
