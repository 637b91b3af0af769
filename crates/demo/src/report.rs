//! What the demo prints while it runs and at the end, with the checks that
//! make it fail loudly when a path did not do its job.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use loadgen::{Incident, Manifest};
use local_pipeline::{PipelineHandle, Resources, Topology};
use playback_domain::ports::FeatureStore;

use testkit::inspect;

use crate::chart;

/// One status line: consumers' progress, alerts so far.
pub async fn status_line(dynamo: &aws_sdk_dynamodb::Client, r: &Resources, p: &PipelineHandle) {
    let alerts = inspect::alerts(dynamo, &r.alerts_table)
        .await
        .map(|a| a.len())
        .unwrap_or(0);
    let parts: Vec<String> = p
        .metrics()
        .iter()
        .map(|(name, m)| format!("{name}: {} rec, age {} ms", m.records, m.iterator_age_ms))
        .collect();
    println!(
        "    [{}] alerts {alerts} | {}",
        chrono::Utc::now().format("%H:%M:%S"),
        parts.join(" | ")
    );
}

/// Waits until no consumer has read anything new for a tumbling window and a bit.
pub async fn wait_drained(p: &PipelineHandle, quiet_for: Duration, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = (0u64, tokio::time::Instant::now());
    while tokio::time::Instant::now() < deadline {
        let total: u64 = p.metrics().values().map(|m| m.records + m.batches).sum();
        if total != last.0 {
            last = (total, tokio::time::Instant::now());
        } else if last.1.elapsed() >= quiet_for {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn secs(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `HH:MM:SS` UTC of an epoch-ms instant.
pub(crate) fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Prints every path's outcome; returns false if a check failed.
pub async fn show(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    incident: &Incident,
    out_dir: &Path,
    through_collector: bool,
) -> Result<bool> {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let mut ok = true;
    let mut check = |cond: bool, what: String| {
        println!("    {} {what}", if cond { "ok  " } else { "FAIL" });
        ok &= cond;
    };

    let s3 = playback_aws::s3_client(aws);
    let files = inspect::lake_files(&s3, &r.lake_bucket, &t.lake.prefix).await?;
    let lake_rows: Vec<&playback_domain::lake::LakeRow> =
        files.iter().flat_map(|f| f.rows.iter()).collect();

    println!(
        "\n==> QoE alerts (threshold {:.3} = baseline {:.3} + margin {:.3})",
        t.alerts.baseline_ratio + t.alerts.margin,
        t.alerts.baseline_ratio,
        t.alerts.margin
    );
    let alerts = inspect::alerts(&dynamo, &r.alerts_table).await?;
    let (inc_start, _) = manifest.incident_interval_ms().unwrap_or_default();
    for a in &alerts {
        println!(
            "    {} / {}  window {}-{}  ratio {:.3}  baseline {:.3}  sessions {}  raised {} after the window closed",
            a.title_id, a.region, utc(a.window_start_ms), utc(a.window_end_ms), a.ratio, a.baseline_ratio,
            a.sessions, secs(a.raised_at_ms - a.window_end_ms)
        );
    }
    let on_incident =
        |a: &&inspect::AlertRow| a.title_id == incident.title_id && a.region == incident.region;
    let first = alerts
        .iter()
        .filter(on_incident)
        .map(|a| a.raised_at_ms)
        .min();
    let what = format!(
        "the incident on {} / {} raised an alert",
        incident.title_id, incident.region
    );
    check(first.is_some(), what);
    // Injection = when the first stalled heartbeat of the incident reached the
    // stream (its lake row's ingest_time), so a slow load generator does not
    // inflate the figure.
    let stalled_arrivals: Vec<i64> = lake_rows
        .iter()
        .filter(|r| r.title_id == incident.title_id && r.region == incident.region)
        .filter(|r| r.stalled_ms.unwrap_or(0) > 0)
        .filter_map(|r| {
            let event = playback_domain::event::parse_rfc3339_ms(&r.event_time).ok()?;
            let ingest = playback_domain::event::parse_rfc3339_ms(&r.ingest_time).ok()?;
            (event >= inc_start).then_some(ingest)
        })
        .collect();
    let injected = stalled_arrivals.iter().copied().min();
    // Per alert window: its first stalled record's arrival -> its alert item.
    let mut per_window: Vec<i64> = alerts
        .iter()
        .filter(on_incident)
        .filter_map(|a| {
            let in_window = |t: &&i64| (a.window_start_ms..a.window_end_ms).contains(*t);
            let first_in = stalled_arrivals.iter().filter(in_window).min()?;
            Some(a.raised_at_ms - first_in)
        })
        .collect();
    per_window.sort_unstable();
    if let (Some(p50), Some(max)) = (per_window.get(per_window.len() / 2), per_window.last()) {
        println!(
            "    alert latency over {} windows (first stalled record of the window -> alert item): p50 {}, max {}",
            per_window.len(),
            secs(*p50),
            secs(*max)
        );
    }
    if let (Some(first), Some(injected)) = (first, injected) {
        let latency = first - injected;
        println!(
            "    injection reached the stream at {} -> first alert at {}: latency {}",
            utc(injected),
            utc(first),
            secs(latency)
        );
        check(
            latency <= 30_000,
            format!("alert within 30 s of the injection ({})", secs(latency)),
        );
    }
    // The bad release stalls its slice too: its region's titles may alert
    // while it lasts, which is the QoE path seeing it, not a false alert.
    let release = manifest
        .config
        .bad_release_interval_ms()
        .zip(manifest.config.bad_release.as_ref());
    let by_release = |a: &&inspect::AlertRow| {
        release.is_some_and(|((s, e), b)| {
            a.region == b.region && a.window_end_ms > s && a.window_start_ms < e + 60_000
        })
    };
    let explained = alerts
        .iter()
        .filter(|a| !on_incident(a) && by_release(a))
        .count();
    let stray = alerts
        .iter()
        .filter(|a| !on_incident(a) && !by_release(a))
        .count();
    check(
        stray == 0,
        format!("no alert elsewhere ({stray} stray; {explained} in the bad release's region while it lasted)"),
    );

    for (cond, what) in crate::sre::show(aws, t, r, manifest, incident).await? {
        check(cond, what);
    }

    let windows = inspect::windows(&dynamo, &r.windows_table).await?;
    println!("\n==> Live concurrent viewers (latest window, top 5 title x region)");
    for (title, region, start, viewers) in inspect::live_viewers(&windows).into_iter().take(5) {
        println!(
            "    {title} / {region}: {viewers} viewers (window {})",
            utc(start)
        );
    }

    println!("\n==> Session features of the three busiest viewers");
    let mut per_viewer: BTreeMap<&str, usize> = BTreeMap::new();
    for l in manifest.lines.iter().filter(|l| l.valid) {
        *per_viewer.entry(l.viewer_id.as_str()).or_default() += 1;
    }
    let mut busiest: Vec<(&str, usize)> = per_viewer.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let ids: Vec<String> = busiest.iter().take(3).map(|(v, _)| v.to_string()).collect();
    let store =
        playback_aws::features_store::DynamoFeatureStore::new(dynamo.clone(), &r.features_table, 0);
    let features = store.load(&ids).await?;
    for id in &ids {
        match features.get(id) {
            Some(f) => println!(
                "    {id}: current {:?}, recent {:?}, session watched {} / stalled {} ms, skips {}, saves {}, lifetime watched {} ms, device {:?}",
                f.current_title, f.recent_titles, f.session_watched_ms, f.session_stalled_ms,
                f.session_skips, f.session_saves, f.lifetime_watched_ms, f.device_platform
            ),
            None => println!("    {id}: (no features)"),
        }
    }
    check(
        features.len() == ids.len(),
        format!(
            "features stored for {} of {} viewers",
            features.len(),
            ids.len()
        ),
    );

    println!("\n==> Poison-pill DLQ");
    let sqs = aws_sdk_sqs::Client::new(aws);
    let letters = inspect::dead_letters(&inspect::drain_queue(&sqs, &r.poison_dlq_url).await?);
    let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in &letters {
        *by.entry((l.consumer.clone(), l.reason_code.clone()))
            .or_default() += 1;
    }
    for ((consumer, code), n) in &by {
        println!("    {consumer:<17} {code:<22} {n}");
    }
    for l in letters.iter().take(3) {
        println!(
            "    e.g. [{}] {} <- {}",
            l.reason_code,
            l.reason,
            l.payload
                .as_deref()
                .unwrap_or("<binary>")
                .chars()
                .take(90)
                .collect::<String>()
        );
    }
    let on_stream = manifest.malformed_lines() as usize;
    let on_queue = manifest.malformed_sre_lines() as usize;
    // Through the collector a bad line is refused at the edge: it letters
    // there (once per request that carried it) and never reaches a consumer.
    let expected: &[(&str, usize)] = if through_collector {
        &[
            ("collector", on_stream),
            ("qoe-alerts", 0),
            ("session-features", 0),
            ("sre-buffer", 0),
        ]
    } else {
        &[
            ("qoe-alerts", on_stream),
            ("session-features", on_stream),
            ("sre-buffer", on_queue),
        ]
    };
    for &(consumer, expected) in expected {
        // Distinct sources: a redelivered SQS message (at-least-once) letters
        // again. The collector's letters are one per request line: counted all.
        let mine: Vec<_> = letters.iter().filter(|l| l.consumer == consumer).collect();
        let got = if consumer == "collector" {
            mine.len()
        } else {
            mine.iter()
                .map(|l| l.source.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let again = mine.len() - got;
        check(
            got == expected && mine.iter().all(|l| !l.reason_code.is_empty()),
            format!(
                "{consumer}: {got} of {expected} malformed events in the DLQ, each with a reason ({again} again on redelivery)"
            ),
        );
    }

    println!(
        "\n==> Lake (Parquet on s3://{}/{})",
        r.lake_bucket, t.lake.prefix
    );
    let rows = lake_rows.len();
    let bytes: usize = files.iter().map(|f| f.bytes).sum();
    for f in files.iter().take(6) {
        println!("    {}  {} rows, {} bytes", f.key, f.rows.len(), f.bytes);
    }
    if files.len() > 6 {
        println!("    ... {} files in all", files.len());
    }
    let valid = manifest.lines.iter().filter(|l| l.valid).count();
    check(
        rows == valid,
        format!(
            "{rows} rows landed = {valid} valid lines sent ({} files, {bytes} bytes)",
            files.len()
        ),
    );

    let series = chart::series(&windows, &incident.title_id, &incident.region);
    let page = chart::html(&series, &alerts, t.alerts.baseline_ratio + t.alerts.margin);
    let chart_path = out_dir.join("rebuffering.html");
    std::fs::write(&chart_path, page)?;
    println!(
        "\n==> Chart of the rebuffering ratio: {}",
        chart_path.display()
    );

    crate::canonical::feed(t, r, manifest, &mut check)?;
    crate::features::show(aws, t, r, manifest, &ids, out_dir, &mut check).await?;
    royalty_close(aws, t, r, manifest, &mut check).await?;
    Ok(ok)
}

async fn royalty_close(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    check: &mut impl FnMut(bool, String),
) -> Result<()> {
    let day = chrono::DateTime::from_timestamp_millis(manifest.config.start_time_ms)
        .unwrap_or_default()
        .date_naive();
    println!("\n==> Royalty close of {day} (DuckDB over the canonical table, same SQL as Athena)");
    let outcome = close_day(aws, t, r, day).await?;
    println!(
        "    read playback.events_canonical snapshot {} (recorded in close.json: a re-run or an audit reads it again)",
        outcome.snapshot_id
    );
    println!("    report: s3://{}/{}", r.lake_bucket, outcome.csv_key);
    println!(
        "    {:<8} {:<11} {:>10} {:>8}",
        "title", "event_day", "minutes", "events"
    );
    for row in outcome.report.rows.iter().take(10) {
        println!(
            "    {:<8} {:<11} {:>10.3} {:>8}",
            row.title_id,
            row.event_day,
            row.watched_ms as f64 / 60_000.0,
            row.events
        );
    }
    let paid: i64 = outcome.report.rows.iter().map(|r| r.watched_ms).sum();
    let expected = manifest.minutes_through(&day.to_string());
    check(
        (paid as f64 / 60_000.0 - expected).abs() < 0.01,
        format!(
            "royalty minutes {:.3} = distinct valid events' minutes {expected:.3}",
            paid as f64 / 60_000.0
        ),
    );
    Ok(())
}

/// The royalty close of `day` with DuckDB over the emulator's lake (the SQL Athena runs).
pub async fn close_day(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    day: chrono::NaiveDate,
) -> Result<royalty::CloseOutcome> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ledger = format!("{}ledger/", t.lake.reports_prefix);
    let engine =
        royalty::DuckDbEngine::in_workspace(&root, &r.lake_bucket, &t.lake.prefix, &ledger);
    let store = royalty::Store::new(playback_aws::s3_client(aws), &r.lake_bucket);
    let cfg = royalty::CloseConfig::new(&r.lake_bucket, &t.lake.reports_prefix, &ledger);
    Ok(royalty::close_day(&engine, &store, &cfg, day).await?)
}
