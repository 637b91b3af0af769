//! The demo's recommender-features step (issue: two speeds of features):
//! the long-horizon batch run over the canonical table (the Athena query,
//! here DuckDB via lake_query.py), published into the session-features
//! table beside what the stream wrote, read back as the recommender reads
//! it (one item per viewer, both kinds, each with its as-of time); then the
//! point-in-time training rows from the canonical table's export.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use lake::{ObjectStore, S3Store};
use loadgen::Manifest;
use local_pipeline::{Resources, Topology};
use offline_features::publish::{publish, Budget};
use offline_features::runs::{self, Manifest as RunManifest};
use offline_features::training;
use playback_aws::features_store::DynamoFeatureStore;
use playback_domain::catalogue::Catalogue;
use playback_domain::long_horizon::{Run, RunHistory};
use playback_domain::training::{training_rows, LABEL_EVENTS};

use crate::canonical::script;
use crate::report::utc;

/// scripts/lake_query.py on the demo's lake (the emulator's S3).
fn lake_query(t: &Topology, r: &Resources, args: &[&str]) -> Result<()> {
    let lake = [
        "--json",
        "--bucket",
        &r.lake_bucket,
        "--prefix",
        &t.lake.prefix,
    ];
    script("lake_query.py", &[&lake[..], args].concat()).map(drop)
}

/// Runs, publishes and reads back one long-horizon run, then builds the
/// training rows; `viewers` are the ones to print.
pub async fn show(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    viewers: &[String],
    out_dir: &Path,
    check: &mut impl FnMut(bool, String),
) -> Result<()> {
    println!("\n==> Long-horizon features (infra/athena/features/long_horizon.sql) into the online store");
    let s3 = S3Store::new(playback_aws::s3_client(aws), &r.lake_bucket);
    let as_of = chrono::Utc::now().timestamp_millis() / 1_000 * 1_000;
    let runs_prefix = &t.lake.long_horizon_prefix;
    let key = format!("{runs_prefix}as_of={as_of}/part-0.parquet");
    let sql =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/athena/features/long_horizon.sql");
    let started = Instant::now();
    lake_query(
        t,
        r,
        &[
            "--file",
            sql.to_str().context("path")?,
            "--param",
            &format!("as_of={}", runs::as_of_param(as_of).unwrap_or_default()),
            "--copy-to",
            &format!("s3://{}/{key}", r.lake_bucket),
        ],
    )?;
    let rows = runs::read_run(s3.get(&key).await?, as_of)?;
    let computed_s = started.elapsed().as_secs_f64();
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let store = DynamoFeatureStore::new(dynamo, &r.features_table, t.features.ttl_secs());
    let started = Instant::now();
    let published_ms = chrono::Utc::now().timestamp_millis();
    let report = publish(&store, &rows, published_ms, Budget::default()).await?;
    let publish_s = started.elapsed().as_secs_f64();
    let m = RunManifest {
        as_of_ms: as_of,
        published_ms,
        viewers: rows.len(),
        written: report.written,
        stale: report.stale,
    };
    s3.put(
        &format!("{runs_prefix}_runs/{as_of}.json"),
        serde_json::to_vec_pretty(&m)?,
    )
    .await?;
    println!(
        "    run as of {}: {} viewers computed in {computed_s:.1} s; published in {publish_s:.1} s ({} written, {} stale, {} retried; budget {:.0} writes/s)",
        utc(as_of),
        rows.len(),
        report.written,
        report.stale,
        report.retried,
        Budget::default().writes_per_s
    );
    check(
        report.written == rows.len() && !rows.is_empty(),
        format!(
            "{} of {} viewers' long-horizon features written",
            report.written,
            rows.len()
        ),
    );
    let mut both = 0;
    for v in viewers {
        let item = store.read_online(v).await?;
        let (Some(s), Some(lh)) = (&item.session, &item.long_horizon) else {
            println!(
                "    {v}: session {:?}, long-horizon {:?}",
                item.session.is_some(),
                item.long_horizon.is_some()
            );
            continue;
        };
        both += 1;
        let f = &lh.features;
        let genres: Vec<String> = f
            .top_genres
            .iter()
            .map(|g| format!("{} {:.0} %", g.genre, g.share_bp as f64 / 100.0))
            .collect();
        println!(
            "    {v}: session (as of event {}): current {:?}, {} events, session watched {} ms, skips {}, saves {}",
            utc(s.last_event_time_ms),
            s.current_title,
            s.events_applied,
            s.session_watched_ms,
            s.session_skips,
            s.session_saves
        );
        println!(
            "    {:w$}  long-horizon (as of {}, published {}): {}, {} plays, completion {}, {:?} / {:?}, {} active days",
            "",
            utc(f.as_of_ms),
            utc(lh.published_ms),
            genres.join(", "),
            f.plays,
            f.completion_bp.map_or("-".into(), |c| format!("{:.0} %", c as f64 / 100.0)),
            f.preferred_device.as_deref().unwrap_or("-"),
            f.preferred_daypart.as_deref().unwrap_or("-"),
            f.active_days,
            w = v.len()
        );
    }
    check(
        both == viewers.len(),
        format!(
            "one read per viewer gives both kinds of features for {both} of {} viewers",
            viewers.len()
        ),
    );
    training_set(
        t,
        r,
        manifest,
        &s3,
        Run {
            as_of_ms: as_of,
            published_ms,
            features: rows
                .into_iter()
                .map(|f| (f.viewer_id.clone(), f))
                .collect::<BTreeMap<_, _>>(),
        },
        out_dir,
        check,
    )
    .await
}

async fn training_set(
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    s3: &S3Store,
    run: Run,
    out_dir: &Path,
    check: &mut impl FnMut(bool, String),
) -> Result<()> {
    println!("\n==> Point-in-time training rows (crates/offline-features)");
    let export = out_dir.join("canonical.parquet");
    lake_query(
        t,
        r,
        &[
            "--copy-to",
            export.to_str().context("path")?,
            "--sql",
            "SELECT * FROM playback.events_canonical",
        ],
    )?;
    let started = Instant::now();
    let events = backfill::rows_to_events(&lake::read_rows(&std::fs::read(&export)?)?)?;
    let titles = lake::read_titles(
        &s3.get(&format!("{}part-0.parquet", t.lake.catalogue_prefix))
            .await?,
    )?;
    let history = RunHistory::new(vec![run]);
    let rows = training_rows(
        events.iter().map(|e| (&e.event, &e.position)),
        &Catalogue::new(titles),
        &history,
    );
    let written = training::write_days(out_dir, &rows, &history, None)?;
    let total: usize = written.values().sum();
    let labels = manifest
        .distinct_valid()
        .filter(|l| LABEL_EVENTS.contains(&l.event_type))
        .count();
    let joined = rows.iter().filter(|r| r.long_horizon.is_some()).count();
    for (day, n) in &written {
        let part = training::partition_dir(out_dir, day).join("part-0.parquet");
        println!("    {}: {n} rows", part.display());
    }
    println!(
        "    {} events replayed in {:.2} s; {joined} rows carry long-horizon features (the one run was published after every event)",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    check(
        total == labels,
        format!("{total} training rows = {labels} label events (skip, save, session end) among the distinct valid events sent"),
    );
    check(
        joined == 0,
        "no row uses a run published after its event".into(),
    );
    Ok(())
}
