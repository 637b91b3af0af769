//! The Athena SRE query (infra/athena/sre_outage_rates.sql) computes what
//! playback_domain::sre computes: its code lists are the domain's, and on a
//! generated lake (a bad release, producer re-sends), fed into the canonical
//! table by its job, DuckDB's per slice-minute counts equal the generator's
//! own SRE counts of the distinct valid events.
//! Runs the query as `make query` does (scripts/lake_query.py, the venv's
//! DuckDB); no emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use loadgen::{generate, ScenarioConfig};
use playback_domain::lake::{partition_of, Ingest, LakeRow};
use playback_domain::sre::{SreCounts, SreKey, FATAL_ERROR_CODES, START_FAILURE_CODES};
use playback_domain::{decode_record, Clock};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sql() -> String {
    std::fs::read_to_string(root().join("infra/athena/sre_outage_rates.sql"))
        .expect("infra/athena/sre_outage_rates.sql is in the repo")
}

fn in_list(codes: &[&str]) -> String {
    let quoted: Vec<String> = codes.iter().map(|c| format!("'{c}'")).collect();
    format!("error_code IN ({})", quoted.join(", "))
}

#[test]
fn the_query_uses_the_domains_code_lists() {
    let sql = sql();
    assert!(
        sql.contains(&in_list(&FATAL_ERROR_CODES)),
        "fatal codes differ"
    );
    assert!(
        sql.contains(&in_list(&START_FAILURE_CODES)),
        "start-failure codes differ"
    );
}

/// Writes the valid lines of every record as the local landing would: one
/// Parquet file per arrival hour under `dir/events/dt=/hour=/`.
fn write_lake(dir: &Path, g: &loadgen::Generated) -> Result<()> {
    let mut parts: BTreeMap<(String, String), Vec<LakeRow>> = BTreeMap::new();
    for r in &g.records {
        let seq = format!("{:020}", r.index);
        for d in decode_record(&r.data, Clock::at(r.emit_ms)) {
            let Ok(e) = d.result else { continue };
            let ingest = Ingest {
                arrival_ms: r.emit_ms,
                shard_id: "shardId-000000000000",
                sequence_number: &seq,
                sub_index: d.index,
            };
            parts
                .entry(partition_of(r.emit_ms))
                .or_default()
                .push(LakeRow::new(&e, &ingest));
        }
    }
    for ((dt, hour), rows) in parts {
        let p = dir.join(format!("events/dt={dt}/hour={hour}"));
        std::fs::create_dir_all(&p)?;
        std::fs::write(p.join("part-0.parquet"), lake::write_rows(&rows)?)?;
    }
    Ok(())
}

#[test]
fn duckdb_counts_what_the_domain_counts() -> Result<()> {
    let cfg = ScenarioConfig {
        viewers: 600,
        titles: 30,
        rate: 80.0,
        duration_s: Some(180.0),
        start_time_ms: chrono::Utc::now().timestamp_millis() - 200_000,
        pack_bytes: 2_000,
        retry_rate: 0.05,
        bad_release: Some("5.2.0:tv:eu-west:60:60:0.6".parse()?),
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let dir = std::env::temp_dir().join(format!("sre-sql-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    write_lake(&dir, &g)?;
    let venv = std::env::var("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".venv"));
    // The query reads the canonical table: one job run over the whole raw lake.
    let job = Command::new(venv.join("bin/python"))
        .arg(root().join("scripts/canonical.py"))
        .arg("--lake-dir")
        .arg(&dir)
        .args(["--settle-s", "0"])
        .output()
        .context("running scripts/canonical.py (make venv installs pyiceberg)")?;
    ensure!(
        job.status.success(),
        "canonical.py: {}",
        String::from_utf8_lossy(&job.stderr)
    );
    let out = Command::new(venv.join("bin/python"))
        .arg(root().join("scripts/lake_query.py"))
        .args(["--json", "--lake-dir"])
        .arg(&dir)
        .arg("--file")
        .arg(root().join("infra/athena/sre_outage_rates.sql"))
        .output()
        .context("running scripts/lake_query.py (make venv installs its DuckDB)")?;
    std::fs::remove_dir_all(&dir).ok();
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let columns: Vec<&str> = result["columns"]
        .as_array()
        .context("columns")?
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    let col = |row: &serde_json::Value, name: &str| -> String {
        let i = columns.iter().position(|c| *c == name).expect(name);
        row[i]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| row[i].to_string())
    };
    let num = |row: &serde_json::Value, name: &str| col(row, name).parse::<u64>().unwrap();
    let mut got: BTreeMap<SreKey, SreCounts> = BTreeMap::new();
    for row in result["rows"].as_array().context("rows")? {
        let minute = col(row, "event_minute");
        // Athena's text rendering of a timestamp: UTC, no zone.
        let minute_ms = chrono::NaiveDateTime::parse_from_str(&minute, "%Y-%m-%d %H:%M:%S%.f")
            .with_context(|| format!("event_minute {minute:?}"))?
            .and_utc()
            .timestamp_millis();
        let key = SreKey {
            minute_ms,
            region: col(row, "region"),
            device_platform: col(row, "device_platform"),
            app_version: col(row, "app_version"),
        };
        let counts = SreCounts {
            attempts: num(row, "attempts"),
            fatal_errors: num(row, "fatal_errors"),
            start_failures: num(row, "start_failures"),
            rebuffer_starts: num(row, "rebuffer_starts"),
            session_ms: num(row, "session_ms"),
            events: 0,
        };
        got.insert(key, counts);
    }
    let expected: BTreeMap<SreKey, SreCounts> = g
        .manifest
        .sre_counts()
        .into_iter()
        .filter(|(_, c)| c.attempts >= 20 || c.session_ms >= 20 * 60_000)
        .map(|(k, c)| (k, SreCounts { events: 0, ..c }))
        .collect();
    ensure!(
        !expected.is_empty(),
        "the scenario reaches the minimum sample"
    );
    ensure!(
        expected
            .values()
            .any(|c| c.fatal_errors > 0 && c.start_failures > 0),
        "the scenario has failures to count"
    );
    assert_eq!(got, expected);
    Ok(())
}
