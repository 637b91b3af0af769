//! The royalty close end to end on the emulator: generated lake Parquet in
//! dt/hour partitions on S3, four consecutive closes run while the lake fills
//! up, then every close re-run after all later ones. An emulator test, run by
//! `make test` (or `scripts/with-emulator.sh cargo test -p royalty -- --ignored`).
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

mod scenario;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use chrono::{Duration, NaiveDate};
use royalty::params::parse_day;
use royalty::store::ledger_partition;
use royalty::{close_day, CloseConfig, DuckDbEngine, QueryEngine, RoyaltyError, Store};
use scenario::{cutoff, day_of, Kind, Landed};

const EVENTS_PREFIX: &str = "events/";
const REPORTS_PREFIX: &str = "royalty/";
const LEDGER_PREFIX: &str = "royalty/ledger/";

async fn s3_client() -> aws_sdk_s3::Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    playback_aws::s3_client(&shared)
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn land(store: &Store, copies: &[&Landed]) -> Result<usize> {
    let files = scenario::files(copies, EVENTS_PREFIX);
    for (key, rows) in &files {
        let body = lake::write_rows(rows).context("lake parquet")?;
        store
            .put(key, body, "application/vnd.apache.parquet")
            .await?;
    }
    Ok(files.len())
}

/// One run of the canonical job (scripts/canonical.py, as `make canonical`)
/// over the bucket's raw lake, up to and including `until_ms`.
fn canonical(bucket: &str, until_ms: i64) -> Result<()> {
    let until = chrono::DateTime::from_timestamp_millis(until_ms)
        .context("until")?
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    let root = workspace_root();
    let venv = std::env::var_os("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"));
    let out = std::process::Command::new(venv.join("bin/python"))
        .arg(root.join("scripts/canonical.py"))
        .args([
            "--bucket",
            bucket,
            "--prefix",
            EVENTS_PREFIX,
            "--until",
            &until,
        ])
        .output()
        .context("scripts/canonical.py (make venv installs pyiceberg)")?;
    ensure!(
        out.status.success(),
        "canonical.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// The bytes of every object a close wrote.
async fn outputs(store: &Store, close: NaiveDate) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let report_dir = royalty::store::report_dir(REPORTS_PREFIX, close);
    for prefix in [ledger_partition(LEDGER_PREFIX, close), report_dir] {
        for key in store.list(&prefix).await? {
            out.insert(key.clone(), store.get(&key).await?);
        }
    }
    Ok(out)
}

/// Expected report CSV of one close, computed from the expected payouts.
fn expected_csv(close: NaiveDate, paid: &BTreeMap<String, (NaiveDate, lake::LakeRow)>) -> String {
    let mut agg: BTreeMap<(NaiveDate, String), (i64, i64)> = BTreeMap::new();
    for (c, row) in paid.values() {
        if *c == close {
            let ms = playback_domain::event::parse_rfc3339_ms(&row.event_time).unwrap();
            let e = agg.entry((day_of(ms), row.title_id.clone())).or_default();
            e.0 += row.watched_ms.unwrap();
            e.1 += 1;
        }
    }
    let mut csv = String::from("title_id,event_day,minutes,watched_ms,events,close_id\n");
    for ((d, title), (w, n)) in agg {
        let thousandths = (w * 1000 + 30_000) / 60_000;
        let minutes = format!("{}.{:03}", thousandths / 1000, thousandths % 1000);
        csv.push_str(&format!("{title},{d},{minutes},{w},{n},{close}\n"));
    }
    csv
}

/// Emulator tests are `#[ignore = "emulator: run via make test"]` (plain
/// `cargo test` lists them as ignored); run on purpose without an emulator,
/// one fails and says why instead of passing.
fn emulator_endpoint(test: &str) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p royalty -- --ignored`"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "emulator: run via make test"]
async fn consecutive_closes_pay_each_event_once_and_reruns_are_byte_identical() -> Result<()> {
    emulator_endpoint("consecutive_closes_pay_each_event_once_and_reruns_are_byte_identical");
    let started = Instant::now();
    let closes: Vec<NaiveDate> = (0..4)
        .map(|i| parse_day("2026-03-01").unwrap() + Duration::days(i))
        .collect();
    let sc = scenario::generate(20260301, &closes, 150);
    let paid = scenario::expected(&sc.copies, &closes);

    let bucket = format!(
        "royalty-it-{}-{}",
        std::process::id(),
        started.elapsed().as_nanos() % 1_000_000
    );
    let client = s3_client().await;
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .context("create bucket")?;
    let store = Store::new(client, &bucket);
    let engine =
        DuckDbEngine::in_workspace(&workspace_root(), &bucket, EVENTS_PREFIX, LEDGER_PREFIX);
    let cfg = CloseConfig::new(&bucket, REPORTS_PREFIX, LEDGER_PREFIX);

    // Each close runs at 02:00 the next day, when the lake holds every hour
    // partition before that (so rows after the 01:00 cutoff exist and must be ignored).
    let mut landed_upto = i64::MIN;
    let mut first_run = BTreeMap::new();
    let mut files = 0;
    for &close in &closes {
        let run_at = cutoff(close) + 3_600_000;
        let batch: Vec<&Landed> = sc
            .copies
            .iter()
            .filter(|c| c.ingest_ms >= landed_upto && c.ingest_ms < run_at)
            .collect();
        files += land(&store, &batch).await?;
        landed_upto = run_at;
        // The canonical job has run up to the close's run time (the lake
        // before run_at is all landed); the close reads its snapshot.
        canonical(&bucket, run_at - 1)?;
        let out = close_day(&engine, &store, &cfg, close).await?;
        ensure!(!out.rerun, "{close} ran before");
        let csv = String::from_utf8(store.get(&out.csv_key).await?)?;
        assert_eq!(csv, expected_csv(close, &paid), "report of close {close}");
        first_run.insert(close, outputs(&store, close).await?);
    }
    let rest: Vec<&Landed> = sc
        .copies
        .iter()
        .filter(|c| c.ingest_ms >= landed_upto)
        .collect();
    files += land(&store, &rest).await?;
    canonical(
        &bucket,
        sc.copies.iter().map(|c| c.ingest_ms).max().unwrap_or(0),
    )?;

    // Sum over closes == sum over distinct valid events (winner per event_id).
    let total_paid: i64 = paid.values().map(|(_, r)| r.watched_ms.unwrap()).sum();
    let mut winners: BTreeMap<&str, &Landed> = BTreeMap::new();
    let last_cutoff = cutoff(*closes.last().unwrap());
    for c in sc
        .copies
        .iter()
        .filter(|c| c.ingest_ms < last_cutoff && c.row.watched_ms.is_some_and(|w| w >= 0))
    {
        let k = |c: &Landed| {
            (
                c.ingest_ms,
                c.row.ingest_shard.clone(),
                (c.row.ingest_seq.len(), c.row.ingest_seq.clone()),
                c.row.ingest_sub,
            )
        };
        let w = winners.entry(&c.row.event_id).or_insert(c);
        if k(c) < k(w) {
            *w = c;
        }
    }
    let last_day = *closes.last().unwrap();
    let distinct: Vec<&&Landed> = winners
        .values()
        .filter(|c| {
            day_of(playback_domain::event::parse_rfc3339_ms(&c.row.event_time).unwrap()) <= last_day
        })
        .collect();
    let distinct_ms: i64 = distinct.iter().map(|c| c.row.watched_ms.unwrap()).sum();
    let mut reported = (0i64, 0i64);
    for &close in &closes {
        let key = format!(
            "{}report.csv",
            royalty::store::report_dir(REPORTS_PREFIX, close)
        );
        let csv = String::from_utf8(store.get(&key).await?)?;
        for line in csv.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            reported.0 += f[3].parse::<i64>()?;
            reported.1 += f[4].parse::<i64>()?;
        }
    }
    assert_eq!(
        reported,
        (distinct_ms, distinct.len() as i64),
        "sum over closes"
    );
    assert_eq!(reported, (total_paid, paid.len() as i64));

    // The ledger: each event once; late events in a later close, at their own day.
    let ledger = engine
        .query("SELECT event_id, CAST(event_day AS VARCHAR) AS event_day, close_id FROM playback.royalty_ledger")
        .await?;
    let mut in_ledger: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in &ledger.rows {
        let v = |i: usize| r[i].clone().unwrap();
        in_ledger.entry(v(0)).or_default().push((v(1), v(2)));
    }
    assert_eq!(in_ledger.len(), paid.len());
    let mut late_paid = 0;
    for (id, (close, row)) in &paid {
        let entries = &in_ledger[id];
        assert_eq!(entries.len(), 1, "{id} paid {entries:?}");
        let event_day = day_of(playback_domain::event::parse_rfc3339_ms(&row.event_time).unwrap());
        assert_eq!(
            entries[0],
            (event_day.to_string(), close.to_string()),
            "{id}"
        );
        if sc.kinds[id] == Kind::Late {
            assert!(*close > event_day, "late {id} paid by {close}");
            late_paid += 1;
        }
    }
    let audit = royalty::sql::render(royalty::sql::ROYALTY_AUDIT_SQL, &[])?;
    assert!(
        engine.query(&audit).await?.rows.is_empty(),
        "audit: paid twice"
    );

    // Re-run every close after all of them ran (latest first), with the whole
    // lake landed and in the canonical table: the recorded snapshot is read
    // again (time travel), so the same bytes.
    for &close in closes.iter().rev() {
        let out = close_day(&engine, &store, &cfg, close).await?;
        ensure!(out.rerun);
        assert_eq!(
            outputs(&store, close).await?,
            first_run[&close],
            "re-run of {close}"
        );
    }

    // Closes keep day order: no gap, nothing before a later close.
    for bad in [closes[3] + Duration::days(2), closes[0] - Duration::days(1)] {
        let err = close_day(&engine, &store, &cfg, bad).await.unwrap_err();
        assert!(matches!(err, RoyaltyError::Order(_)), "{bad}: {err}");
    }

    let count = |k: Kind| sc.kinds.values().filter(|&&v| v == k).count();
    eprintln!(
        "scenario: {} events ({} copies, {} event_ids duplicated: {} retries, {} re-deliveries, {} differing), \
         {} late ({} paid by a later close), {} in grace, {} skewed, {} invalid; {} files; {} closes + {} re-runs; \
         {} paid, {} ms; {:.1}s",
        sc.kinds.len(), sc.copies.len(), scenario::duplicated_ids(&sc.copies), count(Kind::Retry),
        count(Kind::Redelivery), count(Kind::Differing), count(Kind::Late), late_paid, count(Kind::InGrace),
        count(Kind::Skew), count(Kind::Invalid), files, closes.len(), closes.len(), paid.len(), total_paid,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
