//! The hot tier answers the common questions exactly as the canonical table
//! does, and reads far fewer bytes. A generated lake (producer retries, late
//! events, re-sends two hours later, Firehose redeliveries) is fed to the
//! canonical job in three arrival windows, with a crash injected inside the hot
//! tier's commit in the second; after each window every hot question's answer
//! equals the same question asked of the canonical table (and, for minutes per
//! title, of the raw log with the winner rule, and of the generator's truth). A
//! re-run commits nothing. Runs the scripts as `make canonical` / `make tiers` do.

mod canonical_lake;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{ensure, Context, Result};
use canonical_lake::{command, raw_rows, write_lake};
use loadgen::{generate, ScenarioConfig};
use serde_json::Value;

fn script(dir: &Path, name: &str, args: &[&str], chaos: Option<&str>) -> Result<(bool, Value)> {
    let mut cmd = command(dir, name, args);
    cmd.arg("--json");
    if let Some(point) = chaos {
        cmd.env("PLAYBACK_CHAOS_POINTS", point);
    }
    let out = cmd
        .output()
        .with_context(|| format!("scripts/{name} (make venv)"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        ensure!(chaos.is_some(), "{name} {args:?}: {err}");
        ensure!(
            err.contains("chaos-point"),
            "{name} died without the chaos point: {err}"
        );
        return Ok((false, Value::Null));
    }
    Ok((true, serde_json::from_slice(&out.stdout)?))
}

fn ts(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("in range")
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// Every question's tiers answer alike (the raw log only once the canonical
/// table has caught up with all of it); returns the comparison.
fn tiers_agree(dir: &Path, with_raw: bool) -> Result<Value> {
    let (_, v) = script(dir, "tier_compare.py", &["--runs", "1"], None)?;
    let questions = v["questions"].as_array().context("questions")?;
    ensure!(questions.len() == 4, "four hot questions");
    for q in questions {
        let tiers = q["tiers"].as_object().context("tiers")?;
        let hot = &tiers["hot"]["rows"];
        ensure!(
            !hot.as_array().context("rows")?.is_empty(),
            "{}: empty",
            q["question"]
        );
        for (tier, t) in tiers.iter().filter(|(t, _)| with_raw || *t != "raw") {
            ensure!(
                &t["rows"] == hot,
                "{} {tier} differs from the hot tier:\n{}\nvs\n{}",
                q["question"],
                t["rows"],
                hot
            );
        }
    }
    Ok(v)
}

#[test]
fn hot_tier_equals_canonical_through_late_events_and_a_crash() -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = ScenarioConfig {
        viewers: 300,
        titles: 12,
        rate: 60.0,
        duration_s: Some(240.0),
        start_time_ms: now - 5 * 3_600_000,
        pack_bytes: 2_000,
        retry_rate: 0.08,
        late_rate: 0.05,
        late_hours: 2.0,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let dir = std::env::temp_dir().join(format!("hot-tier-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &rows, &arrival)?;
    let last = *arrival.iter().max().context("rows")?;
    let mid = cfg.start_time_ms + 150_000;

    // Window 1: part of the stream; window 2: the rest, the hot commit crashes;
    // window 3 (nothing new for the canonical table) completes the hot tier.
    let (ok, v) = script(&dir, "canonical.py", &["--until", &ts(mid)], None)?;
    ensure!(ok && v["committed"] == true, "first window commits: {v}");
    tiers_agree(&dir, false)?;
    let until = ts(last + 1);
    let (ok, _) = script(
        &dir,
        "canonical.py",
        &["--until", &until],
        Some("hot-commit"),
    )?;
    ensure!(!ok, "the hot tier's commit was interrupted");
    let (ok, v) = script(&dir, "canonical.py", &["--until", &until], None)?;
    ensure!(
        ok && v["committed"] == false,
        "canonical already complete: {v}"
    );
    let hot = v["hot"].as_object().context("hot")?;
    ensure!(
        hot.values().any(|r| r["committed"] == true),
        "the interrupted refresh completes: {v}"
    );
    let cmp = tiers_agree(&dir, true)?;

    // Minutes and events per title equal the truth over distinct valid events.
    let mut want: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for l in g.manifest.distinct_valid() {
        let e = want.entry(l.title_id.clone()).or_default();
        e.0 += l.watched_ms.unwrap_or(0);
        e.1 += 1;
    }
    let minutes = &cmp["questions"][0];
    ensure!(minutes["question"] == "minutes_by_title", "first question");
    let got = minutes["tiers"]["hot"]["rows"].as_array().context("rows")?;
    ensure!(got.len() == want.len(), "titles");
    for r in got {
        let title = r[0].as_str().context("title")?;
        let (ms, n) = want[title];
        let m: f64 = r[1].as_str().context("minutes")?.parse()?;
        ensure!(
            (m - ms as f64 / 60_000.0).abs() < 0.001,
            "{title}: {m} vs {ms} ms"
        );
        ensure!(
            r[2].as_str() == Some(n.to_string().as_str()),
            "{title} events"
        );
    }
    // The rollup reads less than the table, which reads less than the raw log.
    let bytes = |tier: &str| minutes["tiers"][tier]["bytes"].as_u64().unwrap_or(0);
    ensure!(
        0 < bytes("hot") && bytes("hot") < bytes("canonical") && bytes("canonical") < bytes("raw"),
        "bytes hot {} < canonical {} < raw {}",
        bytes("hot"),
        bytes("canonical"),
        bytes("raw")
    );

    // A re-run commits nothing anywhere.
    let (_, v) = script(&dir, "canonical.py", &["--until", &until], None)?;
    ensure!(v["committed"] == false, "{v}");
    for (table, r) in v["hot"].as_object().context("hot")? {
        ensure!(r["committed"] == false, "{table} re-committed: {r}");
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
