//! The demo's canonical lake step: the canonical Iceberg table fed from the
//! raw lake by its job (scripts/canonical.py, as `make canonical` runs it), a
//! re-run that must commit nothing, and the check that the table holds each
//! distinct valid event_id of the manifest exactly once.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use loadgen::Manifest;
use local_pipeline::{Resources, Topology};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let venv = std::env::var_os("VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"));
    venv.join("bin").join("python")
}

pub(crate) fn script(name: &str, args: &[&str]) -> Result<Value> {
    let out = Command::new(python())
        .arg(root().join("scripts").join(name))
        .args(args)
        .env_remove("AS_OF")
        .output()
        .with_context(|| format!("scripts/{name} (make venv installs pyiceberg, DuckDB)"))?;
    ensure!(
        out.status.success(),
        "scripts/{name}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// One job run over everything landed (the demo has drained: no settle
/// needed); returns the job's JSON summary.
pub fn job(bucket: &str, prefix: &str) -> Result<Value> {
    let args = [
        "--json",
        "--settle-s",
        "0",
        "--bucket",
        bucket,
        "--prefix",
        prefix,
    ];
    match script("canonical.py", &args) {
        // A catalog left by an earlier emulator: forget it, start the table afresh.
        Err(e) if e.to_string().contains("--reset") => {
            let mut again = args.to_vec();
            again.push("--reset");
            script("canonical.py", &again)
        }
        other => other,
    }
}

/// Runs the job twice and checks the table; prints what it did.
pub fn feed(
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    check: &mut impl FnMut(bool, String),
) -> Result<()> {
    println!("\n==> Canonical Iceberg table playback.events_canonical (scripts/canonical.py)");
    let first = job(&r.lake_bucket, &t.lake.prefix)?;
    println!(
        "    run 1: +{} rows, snapshot {}, watermark {}",
        first["rows_added"],
        first["snapshot_id"],
        first["watermark"].as_str().unwrap_or("?")
    );
    let second = job(&r.lake_bucket, &t.lake.prefix)?;
    println!(
        "    run 2: committed {}, +{} rows ({} winners re-read, all present)",
        second["committed"], second["rows_added"], second["candidates"]
    );
    check(
        second["rows_added"] == 0,
        "canonical re-run commits nothing new".into(),
    );
    let counted = script(
        "lake_query.py",
        &[
            "--json",
            "--bucket",
            &r.lake_bucket,
            "--prefix",
            &t.lake.prefix,
            "--sql",
            "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM playback.events_canonical",
        ],
    )?;
    let cell = |i: usize| -> usize {
        counted["rows"][0][i]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX)
    };
    let (rows, ids) = (cell(0), cell(1));
    let distinct = manifest.distinct_valid_event_ids().len();
    check(
        rows == distinct && ids == distinct,
        format!(
            "canonical rows {rows} ({ids} distinct ids) = distinct valid event_ids sent {distinct}"
        ),
    );
    tiers(t, r, check)
}

/// The hot tier against the canonical table and the raw log: same answers,
/// bytes scanned and time per question (scripts/tier_compare.py, `make tiers`).
fn tiers(t: &Topology, r: &Resources, check: &mut impl FnMut(bool, String)) -> Result<()> {
    println!("\n==> Hot tier (last 7 days, hourly rollups) vs canonical vs raw log (scripts/tier_compare.py)");
    let args = [
        "--json",
        "--runs",
        "3",
        "--bucket",
        &r.lake_bucket,
        "--prefix",
        &t.lake.prefix,
    ];
    let v = script("tier_compare.py", &args)?;
    for q in v["questions"].as_array().context("questions")? {
        let tiers = q["tiers"].as_object().context("tiers")?;
        let hot = &tiers["hot"]["rows"];
        for (tier, x) in tiers {
            println!(
                "    {:<34} {tier:<9} {:>6} rows {:>10} bytes {:>8.1} ms",
                q["question"].as_str().unwrap_or("?"),
                x["rows"].as_array().map_or(0, Vec::len),
                x["bytes"],
                x["ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
        let same = tiers.values().all(|x| &x["rows"] == hot);
        check(
            same && hot.as_array().is_some_and(|r| !r.is_empty()),
            format!("hot tier answer = canonical answer: {}", q["question"]),
        );
    }
    Ok(())
}
