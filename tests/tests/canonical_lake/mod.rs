//! Shared by canonical.rs and canonical_s3.rs: a generated raw lake with
//! producer retries, re-sends two hours later and Firehose redeliveries, and
//! the venv's python that runs scripts/canonical.py and lake_query.py.

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use playback_domain::catalogue::Title;
use playback_domain::lake::{partition_of, Ingest, LakeRow};
use playback_domain::{decode_record, Clock};
use serde_json::Value;

const SHARDS: [&str; 2] = ["shardId-000000000000", "shardId-000000000001"];
/// Every 9th record is sent again by its producer two hours later (new sequence number).
const RESEND_EVERY: u64 = 9;
const RESEND_AFTER_MS: i64 = 2 * 3_600_000;
/// 2026-03-05T10:50:00Z: the scenario crosses an hour boundary.
pub const START_MS: i64 = 1_772_707_800_000;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn python() -> PathBuf {
    std::env::var("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join(".venv"))
        .join("bin/python")
}

/// scripts/<name> on a local lake directory, with no chaos point and no AS_OF
/// taken from the caller's environment.
pub fn command(dir: &Path, name: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(python());
    cmd.arg(root().join("scripts").join(name))
        .arg("--lake-dir")
        .arg(dir)
        .args(args)
        .env_remove("PLAYBACK_CHAOS_POINTS")
        .env_remove("AS_OF");
    cmd
}

/// Runs [`command`]; its stdout, or an error with its stderr.
pub fn script(dir: &Path, name: &str, args: &[&str]) -> Result<Vec<u8>> {
    let out = command(dir, name, args)
        .output()
        .with_context(|| format!("scripts/{name} (make venv)"))?;
    ensure!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// The raw lake as the landing writes it (one Parquet object per arrival hour),
/// plus a second object per hour redelivering that hour's first 50 rows.
pub fn write_lake(dir: &Path, rows: &[LakeRow], arrival: &[i64]) -> Result<()> {
    let mut parts: BTreeMap<(String, String), Vec<LakeRow>> = BTreeMap::new();
    for (r, ms) in rows.iter().zip(arrival) {
        parts.entry(partition_of(*ms)).or_default().push(r.clone());
    }
    for ((dt, hour), rows) in parts {
        let p = dir.join(format!("events/dt={dt}/hour={hour}"));
        std::fs::create_dir_all(&p)?;
        std::fs::write(p.join("part-0.parquet"), lake::write_rows(&rows)?)?;
        let again = &rows[..rows.len().min(50)];
        std::fs::write(p.join("part-1.parquet"), lake::write_rows(again)?)?;
    }
    Ok(())
}

/// The title catalogue as the demo uploads it: `catalogue/titles/part-0.parquet`
/// (pipeline.json's `lake.catalogue_prefix`) under the lake directory.
pub fn write_catalogue(dir: &Path, titles: &[Title]) -> Result<()> {
    let p = dir.join("catalogue/titles");
    std::fs::create_dir_all(&p)?;
    std::fs::write(p.join("part-0.parquet"), lake::write_titles(titles)?)?;
    Ok(())
}

/// Every copy the lake receives, with its arrival instant.
pub fn raw_rows(g: &loadgen::Generated) -> (Vec<LakeRow>, Vec<i64>) {
    let (mut rows, mut arrival) = (Vec::new(), Vec::new());
    for r in &g.records {
        let mut land = |arrival_ms: i64, seq: u64| {
            // Unpadded sequence numbers: "9" < "10" only as numbers.
            let seq = seq.to_string();
            for d in decode_record(&r.data, Clock::at(r.emit_ms)) {
                let Ok(e) = d.result else { continue };
                let ingest = Ingest {
                    arrival_ms,
                    shard_id: SHARDS[(r.index % 2) as usize],
                    sequence_number: &seq,
                    sub_index: d.index,
                };
                rows.push(LakeRow::new(&e, &ingest));
                arrival.push(arrival_ms);
            }
        };
        land(r.emit_ms, r.index);
        if r.index % RESEND_EVERY == 0 {
            land(r.emit_ms + RESEND_AFTER_MS, r.index + 1_000_000);
        }
    }
    (rows, arrival)
}

/// `SELECT * FROM playback.events_canonical` as Parquet in `<dir>/export/`
/// (lake_query.py --copy-to, as `make backfill-canonical` does); the folder.
pub fn export_canonical(dir: &Path) -> Result<PathBuf> {
    let export = dir.join("export");
    std::fs::create_dir_all(&export)?;
    let file = export.join("canonical.parquet");
    script(
        dir,
        "lake_query.py",
        &[
            "--copy-to",
            file.to_str().context("path")?,
            "--sql",
            "SELECT * FROM playback.events_canonical",
        ],
    )?;
    Ok(export)
}

pub fn snapshot(v: &Value) -> String {
    v["snapshot_id"].to_string()
}
