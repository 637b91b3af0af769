//! The batch half of the recommender's features on a few days of a local
//! lake (features_lake): the batch query against the domain definition, the
//! skew proof, the no-leakage proof, the idempotent training re-run and the
//! sliced (AWS) build against the one pass.

mod canonical_lake;
mod features_lake;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{ensure, Result};
use base64::Engine;
use features_lake::{lake, run_batch, Delivered, DAY_MS, START_MS};
use offline_features::runs::{self, Manifest};
use offline_features::{slices, training};
use playback_domain::features::ViewerFeatures;
use playback_domain::lake::LakeRow;
use playback_domain::long_horizon::{compute, LongHorizonFeatures, RunHistory};
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

/// The AWS build: slices of (arrival day x viewer bucket), each continuing
/// its bucket's stored state from the day before and loading only the runs
/// and viewers its labels need, write exactly the one-pass rows, file for
/// file; a slice re-run from the same stored state writes the same bytes.
#[test]
fn the_sliced_build_equals_one_pass_and_a_slice_rerun_is_byte_identical() -> Result<()> {
    let l = lake();
    const BUCKETS: u32 = 3;
    const PASSES: u32 = 2;
    let manifests: Vec<Manifest> = (1..=3)
        .map(|d| Manifest {
            as_of_ms: START_MS + d * DAY_MS,
            published_ms: START_MS + d * DAY_MS + 3 * 3_600_000,
            viewers: 0,
            written: 0,
            stale: 0,
        })
        .collect();
    let run_rows: BTreeMap<i64, Vec<LongHorizonFeatures>> = manifests
        .iter()
        .map(|m| {
            let f = compute(
                l.events.iter().map(|e| (&e.event, e.arrival_ms)),
                &l.catalogue,
                m.as_of_ms,
            );
            (m.as_of_ms, f.into_values().collect())
        })
        .collect();
    let full = slices::history(&manifests, run_rows.clone());
    // Any stable hash keeps a viewer in one bucket (Athena uses xxhash64).
    let bucket_of = |v: &str| (v.bytes().map(u32::from).sum::<u32>()) % BUCKETS;
    let mut sliced: BTreeMap<(String, u32), Vec<LakeRow>> = BTreeMap::new();
    let mut arrival_day = BTreeMap::new();
    for r in &l.canonical {
        let day = r.ingest_time[..10].to_string();
        arrival_day.insert(r.event_id.clone(), day.clone());
        let key = (day, bucket_of(&r.viewer_id));
        sliced.entry(key).or_default().push(r.clone());
    }
    // The one pass, grouped as the slices name their files.
    let one_pass = rows_of(&l.events, &full);
    let mut expected: BTreeMap<String, Vec<training::Example>> = BTreeMap::new();
    for row in &one_pass {
        let key = slices::file_key(
            &training::day_of(row.event_time_ms),
            &arrival_day[&row.event_id],
            bucket_of(&row.viewer_id),
            slices::pass_of(&row.viewer_id, PASSES),
        );
        let lh_published_ms = full.served_at(row.event_time_ms).map(|r| r.published_ms);
        expected.entry(key).or_default().push(training::Example {
            row,
            lh_published_ms,
        });
    }
    let days: BTreeSet<String> = sliced.keys().map(|(d, _)| d.clone()).collect();
    let mut stored: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let (mut files, mut rows) = (BTreeMap::new(), 0);
    for day in &days {
        for b in 0..BUCKETS {
            let input = sliced.get(&(day.clone(), b)).cloned().unwrap_or_default();
            let before = stored.get(&b).map(|s| slices::decode_state(s, "state"));
            let before = before.transpose()?.unwrap_or_default();
            let (mut state, mut again) = (before.clone(), before);
            for pass in 0..PASSES {
                let input: Vec<LakeRow> = input
                    .iter()
                    .filter(|r| slices::pass_of(&r.viewer_id, PASSES) == pass)
                    .cloned()
                    .collect();
                let needed = slices::needed_runs(&input, &manifests)?;
                let viewers = slices::label_viewers(&input);
                let loaded = run_rows
                    .iter()
                    .filter(|(a, _)| needed.contains(a))
                    .map(|(a, f)| {
                        let f = f.iter().filter(|x| viewers.contains(x.viewer_id.as_str()));
                        (*a, f.cloned().collect())
                    })
                    .collect();
                let history = slices::history(&manifests, loaded);
                let id = slices::SliceId {
                    day,
                    bucket: b,
                    pass,
                };
                let s = slices::build(&mut state, &input, &l.catalogue, &history, id)?;
                let r = slices::build(&mut again, &input, &l.catalogue, &history, id)?;
                ensure!(r.files == s.files, "{day}/{b}/{pass}: a re-run differs");
                rows += s.listing.rows;
                for (k, bytes) in s.files {
                    ensure!(
                        files.insert(k.clone(), bytes).is_none(),
                        "{k} written twice"
                    );
                }
            }
            ensure!(again == state, "{day}/{b}: a re-run leaves another state");
            stored.insert(b, slices::encode_state(&state));
        }
    }
    ensure!(
        rows == one_pass.len(),
        "rows {rows} = one pass {}",
        one_pass.len()
    );
    ensure!(
        files.keys().collect::<Vec<_>>() == expected.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, mut ex) in expected {
        ensure!(files[&k] == training::encode(&mut ex)?, "{k}: bytes differ");
    }
    let late = l
        .canonical
        .iter()
        .filter(|r| r.event_time[..10] != r.ingest_time[..10]);
    ensure!(
        late.count() > 0,
        "late events folded by the slice of the day they arrived"
    );
    ensure!(
        one_pass.iter().any(|r| r.long_horizon.is_some()),
        "rows with long-horizon features"
    );
    Ok(())
}
