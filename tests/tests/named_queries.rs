//! The Athena named queries read the canonical table, not the raw log: on a
//! generated lake where producer retries, re-sends and Firehose redeliveries
//! land many events twice, every query of infra/athena/ that needs no
//! parameters runs, and the answers of two of them equal the generator's
//! truth over distinct valid events (each event_id once): minutes and events
//! per title, and viewers and sessions per event hour. With the per-query
//! dedup gone, only the table's exactly-once rows make these equal. Runs the
//! scripts as `make canonical` / `make query` do, on a local directory.

mod canonical_lake;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{ensure, Context, Result};
use canonical_lake::{raw_rows, root, script, write_lake};
use loadgen::{generate, ScenarioConfig};
use serde_json::Value;

fn run(dir: &std::path::Path, name: &str, args: &[&str]) -> Result<Value> {
    Ok(serde_json::from_slice(&script(dir, name, args)?)?)
}

/// (column names, rows as text) of one named query.
fn query(dir: &std::path::Path, file: &str) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let path = root().join("infra/athena").join(file);
    let v = run(
        dir,
        "lake_query.py",
        &["--json", "--file", path.to_str().context("path")?],
    )?;
    let cols = v["columns"].as_array().context("columns")?;
    let cols = cols
        .iter()
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    let rows = v["rows"].as_array().context("rows")?.iter();
    let text = |c: &Value| c.as_str().map(str::to_string).unwrap_or_default();
    Ok((
        cols,
        rows.map(|r| r.as_array().into_iter().flatten().map(text).collect())
            .collect(),
    ))
}

#[test]
fn named_queries_count_each_event_once() -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = ScenarioConfig {
        viewers: 300,
        titles: 12,
        rate: 60.0,
        duration_s: Some(180.0),
        start_time_ms: now - 3 * 3_600_000,
        pack_bytes: 2_000,
        retry_rate: 0.08,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let truth: Vec<_> = g.manifest.distinct_valid().collect();
    ensure!(
        rows.len() > truth.len() + truth.len() / 10,
        "duplicates >10 %"
    );
    let dir = std::env::temp_dir().join(format!("named-queries-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &rows, &arrival)?;
    run(&dir, "canonical.py", &["--json", "--settle-s", "0"])?;

    // Every parameterless named query runs on the canonical table.
    let mut ran = 0;
    for entry in std::fs::read_dir(root().join("infra/athena"))? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if !name.ends_with(".sql") {
            continue; // hot/: the hot tier's job SQL
        }
        let sql = std::fs::read_to_string(root().join("infra/athena").join(&name))?;
        if sql.contains("{{") || !sql.contains("FROM playback.events_canonical") {
            continue;
        }
        assert!(!sql.contains("row_number"), "{name} deduplicates by itself");
        query(&dir, &name).with_context(|| name.clone())?;
        ran += 1;
    }
    assert!(ran >= 7, "only {ran} named queries ran");

    // Minutes and events per title.
    let mut want: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for l in &truth {
        let e = want.entry(l.title_id.clone()).or_default();
        e.0 += l.watched_ms.unwrap_or(0);
        e.1 += 1;
    }
    let (cols, got) = query(&dir, "top_titles_by_minutes.sql")?;
    assert_eq!(cols, ["title_id", "minutes_watched", "viewers", "events"]);
    let got: BTreeMap<String, (String, usize)> = got
        .into_iter()
        .map(|r| (r[0].clone(), (r[1].clone(), r[3].parse().unwrap())))
        .collect();
    assert_eq!(got.len(), want.len());
    for (title, (ms, n)) in &want {
        let (minutes, events) = &got[title];
        assert_eq!(*events, *n, "events of {title}");
        let m: f64 = minutes.parse()?;
        assert!(
            (m - *ms as f64 / 60_000.0).abs() < 0.001,
            "{title}: {m} vs {ms} ms"
        );
    }

    // Viewers and sessions per event hour.
    let mut hours: BTreeMap<i64, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for l in &truth {
        let h = hours
            .entry(l.event_time_ms.div_euclid(3_600_000))
            .or_default();
        h.0.insert(&l.viewer_id);
        h.1.insert(&l.session_id);
    }
    let (_, got) = query(&dir, "concurrent_viewers_by_hour.sql")?;
    let got: Vec<(usize, usize)> = got
        .iter()
        .map(|r| (r[1].parse().unwrap(), r[2].parse().unwrap()))
        .collect();
    let want: Vec<(usize, usize)> = hours.values().map(|(v, s)| (v.len(), s.len())).collect();
    assert_eq!(got, want, "viewers, sessions per hour");

    // Startup time per title x region x event day: p50/p95 of the v2
    // session_starts' startup_ms (each event once; v1 players send none), the
    // nearest-rank values lake_query.py computes for approx_percentile.
    let mut starts: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    let mut once = BTreeSet::new();
    for r in rows.iter().filter(|r| r.event_type == "session_start") {
        if let (true, Some(ms)) = (once.insert(r.event_id.as_str()), r.startup_ms) {
            let day = r.event_time[..10].to_string();
            let key = (r.title_id.clone(), r.region.clone(), day);
            starts.entry(key).or_default().push(ms);
        }
    }
    let rank = |v: &[i64], q: f64| v[((v.len() as f64 * q).ceil() as usize).max(1) - 1];
    let want: BTreeMap<_, _> = starts
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_unstable();
            let stats = [v.len() as i64, rank(&v, 0.5), rank(&v, 0.95)];
            (k, stats.map(|n| n.to_string()).to_vec())
        })
        .collect();
    ensure!(want.len() >= 20, "{} startup groups", want.len());
    let (cols, got) = query(&dir, "startup_time_by_title_region_day.sql")?;
    assert_eq!(
        cols,
        [
            "title_id",
            "region",
            "event_day",
            "starts",
            "p50_startup_ms",
            "p95_startup_ms"
        ]
    );
    let got: BTreeMap<_, _> = got
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone(), r[2].clone()), r[3..].to_vec()))
        .collect();
    assert_eq!(got, want, "startup p50/p95 per title, region, day");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
