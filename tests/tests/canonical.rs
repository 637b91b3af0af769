//! The canonical Iceberg table playback.events_canonical (scripts/canonical.py,
//! the selection of infra/athena/canonical_merge.sql) over a generated raw lake
//! with producer retries, re-sends two hours later, Firehose redeliveries and
//! late events, fed in two windows with a crash between the data write and the
//! commit: one row per distinct valid event_id, each the royalty rule's winner,
//! in its event-day partition; re-runs commit nothing; time travel returns the
//! first window's count. Runs the scripts as `make canonical` / `make query` do
//! (the venv's pyiceberg and DuckDB) on a local directory; no emulator.

mod canonical_lake;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{ensure, Context, Result};
use canonical_lake::{python, raw_rows, root, snapshot, write_lake, START_MS};
use loadgen::{generate, ScenarioConfig};
use playback_domain::event::format_rfc3339_ms;
use playback_domain::lake::LakeRow;
use serde_json::Value;

fn ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `ORDER BY` of a query's winner: from `ORDER BY` to the end of the window.
fn winner_order(sql: &str) -> String {
    let at = sql.find("ORDER BY ingest_time").expect("winner ORDER BY");
    ws(&sql[at..at + sql[at..].find(") AS copy_rank").expect("copy_rank")])
}

#[test]
fn the_merge_selects_by_the_royalty_rule() {
    let read = |f: &str| std::fs::read_to_string(root().join("infra/athena").join(f)).unwrap();
    let merge = read("canonical_merge.sql");
    // crates/royalty/src/order.rs (copy_order) is this key in Rust.
    assert_eq!(
        winner_order(&merge),
        "ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub, \
         title_id, watched_ms, event_time"
    );
    // The close no longer ranks copies: it reads the table's winners at a snapshot.
    let close = read("royalty_close.sql");
    assert!(close.contains("FROM playback.events_canonical FOR VERSION AS OF {{snapshot_id}}"));
    assert!(!close.contains("row_number"));
    assert!(merge.contains("MERGE INTO playback.events_canonical"));
    assert!(merge.contains("WHEN NOT MATCHED THEN INSERT"));
    assert!(merge.contains("-- selection:begin") && merge.contains("-- selection:end"));
}

struct Lake {
    dir: PathBuf,
}

impl Lake {
    fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        Command::new(python())
            .arg(root().join("scripts").join(script))
            .arg("--lake-dir")
            .arg(&self.dir)
            .args(args)
            .envs(env.iter().copied())
            .env_remove("AS_OF")
            .output()
            .with_context(|| {
                format!("running scripts/{script} (make venv installs pyiceberg, DuckDB)")
            })
    }

    fn job(&self, until: &str) -> Result<Value> {
        let out = self.run("canonical.py", &["--json", "--until", until], &[])?;
        ensure!(
            out.status.success(),
            "canonical.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    fn query(&self, sql: &str, as_of: Option<&str>) -> Result<Vec<Vec<Value>>> {
        let mut args = vec!["--json", "--sql", sql];
        if let Some(a) = as_of {
            args.extend(["--as-of", a]);
        }
        let out = self.run("lake_query.py", &args, &[])?;
        ensure!(
            out.status.success(),
            "lake_query.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout)?;
        Ok(v["rows"]
            .as_array()
            .context("rows")?
            .iter()
            .map(|r| r.as_array().cloned().unwrap_or_default())
            .collect())
    }

    fn count(&self, as_of: Option<&str>) -> Result<u64> {
        let rows = self.query("SELECT count(*) FROM playback.events_canonical", as_of)?;
        Ok(rows[0][0].as_str().context("count")?.parse()?)
    }

    fn data_files(&self) -> usize {
        let data = self.dir.join("canonical/playback/events_canonical/data");
        std::fs::read_dir(&data)
            .map(|days| {
                days.flatten()
                    .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
                    .sum()
            })
            .unwrap_or(0)
    }
}

#[test]
fn canonical_table_is_exactly_once_and_travels_in_time() -> Result<()> {
    let cfg = ScenarioConfig {
        viewers: 400,
        titles: 20,
        rate: 60.0,
        duration_s: Some(240.0),
        start_time_ms: START_MS,
        pack_bytes: 2_000,
        retry_rate: 0.05,
        late_rate: 0.05,
        late_hours: 60.0,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let dir = std::env::temp_dir().join(format!("canonical-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &rows, &arrival)?;
    let lake = Lake { dir: dir.clone() };

    // The truth: the royalty rule's winner of each event_id over every copy.
    let mut copies: BTreeMap<&str, Vec<&LakeRow>> = BTreeMap::new();
    for r in &rows {
        copies.entry(r.event_id.as_str()).or_default().push(r);
    }
    let winners: BTreeMap<&str, &LakeRow> = copies
        .iter()
        .map(|(id, c)| (*id, royalty::order::winner(c.iter().copied()).unwrap()))
        .collect();
    let truth = g.manifest.distinct_valid_event_ids();
    ensure!(
        winners.keys().copied().collect::<BTreeSet<_>>() == truth,
        "the lake holds every valid event"
    );
    ensure!(
        rows.len() > truth.len() + truth.len() / 10,
        "retries and re-sends duplicate >10 %"
    );
    let t1_ms = START_MS + 120_000;
    let t1 = format_rfc3339_ms(t1_ms);
    let first_window = winners.values().filter(|w| w.ingest_time <= t1).count() as u64;
    let end = format_rfc3339_ms(arrival.iter().max().unwrap() + 1);

    // Window 1, then a crash after the data files are written, before the commit.
    let s1 = lake.job(&t1)?;
    assert_eq!(s1["rows_added"], first_window);
    let files = lake.data_files();
    let crashed = lake.run(
        "canonical.py",
        &["--json", "--until", &end],
        &[("PLAYBACK_CHAOS_POINTS", "canonical-commit")],
    )?;
    assert_eq!(
        crashed.status.signal(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&crashed.stderr)
    );
    assert!(
        lake.data_files() > files,
        "the crashed run had written its data files"
    );
    assert_eq!(
        lake.count(None)?,
        first_window,
        "the table stayed at its last snapshot"
    );

    // The next run completes the work; re-runs commit nothing.
    let s2 = lake.job(&end)?;
    assert_eq!(s2["committed"], true);
    assert_eq!(
        s2["watermark"].as_str().unwrap().replace(' ', "T")[..23],
        end[..23]
    );
    for again in [&end, &t1] {
        let s3 = lake.job(again)?;
        assert_eq!(
            (s3["committed"].clone(), snapshot(&s3)),
            (Value::Bool(false), snapshot(&s2))
        );
    }
    assert_eq!(lake.count(None)?, truth.len() as u64);

    // Every row is the rule's winner, as the Rust rule and the DuckDB dedupe both say.
    let got = lake.query(
        "SELECT event_id, ingest_time, ingest_shard, ingest_seq, ingest_sub, watched_ms FROM playback.events_canonical",
        None,
    )?;
    let s = |v: &Value| v.as_str().map(str::to_string).unwrap_or_default();
    let got: BTreeMap<String, (String, String, String, String)> = got
        .iter()
        .map(|r| (s(&r[0]), (s(&r[1]), s(&r[2]), s(&r[3]), s(&r[4]))))
        .collect();
    assert_eq!(got.len(), truth.len(), "one row per event_id");
    for (id, w) in &winners {
        let arrival =
            format_rfc3339_ms(playback_domain::event::parse_rfc3339_ms(&w.ingest_time).unwrap());
        let want = (
            arrival.replace('T', " ").trim_end_matches('Z').to_string(),
            w.ingest_shard.clone(),
            w.ingest_seq.clone(),
            w.ingest_sub.to_string(),
        );
        assert_eq!(got.get(*id), Some(&want), "winner of {id}");
    }
    let cols =
        "event_id, event_type, event_time, viewer_id, session_id, title_id, region, watched_ms, \
                stalled_ms, bitrate_kbps, position_ms, device_platform, app_version, error_code, startup_ms, \
                schema_version, ingest_time, ingest_shard, ingest_seq, ingest_sub";
    let diff = lake.query(&format!(
        "WITH w AS (SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY \
         ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub) AS r FROM playback.events) \
         WHERE r = 1), c AS (SELECT {cols} FROM playback.events_canonical) \
         SELECT (SELECT count(*) FROM (SELECT * FROM c EXCEPT SELECT * FROM w)), \
                (SELECT count(*) FROM (SELECT * FROM w EXCEPT SELECT * FROM c))"), None)?;
    assert_eq!(
        diff[0],
        vec![Value::from("0"), Value::from("0")],
        "canonical = raw row_number winners"
    );

    // Late events sit in their own event-day partitions, once each.
    let late: BTreeSet<&str> = g
        .manifest
        .distinct_valid()
        .filter(|l| l.late)
        .map(|l| l.event_id.as_str())
        .collect();
    ensure!(!late.is_empty(), "the scenario has late events");
    let old = lake.query(
        "SELECT count(*), count(DISTINCT event_id) FROM playback.events_canonical \
         WHERE date(event_time) < date(ingest_time) - INTERVAL '1' DAY",
        None,
    )?;
    assert_eq!(
        old[0],
        vec![
            Value::from(late.len().to_string()),
            Value::from(late.len().to_string())
        ]
    );
    let days: BTreeSet<String> = winners
        .values()
        .map(|w| format!("event_day={}", &w.event_time[..10]))
        .collect();
    let dirs: BTreeSet<String> =
        std::fs::read_dir(dir.join("canonical/playback/events_canonical/data"))?
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .collect();
    assert_eq!(dirs, days, "one partition per event day");

    // Time travel: the first snapshot by id, and the current one by timestamp.
    assert_eq!(lake.count(Some(&snapshot(&s1)))?, first_window);
    let now = format_rfc3339_ms(chrono::Utc::now().timestamp_millis());
    assert_eq!(lake.count(Some(&now))?, truth.len() as u64);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
