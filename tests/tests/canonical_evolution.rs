//! Contract schema_version 2 (startup_ms) reaches a canonical table made by
//! the v1 release: the v1 job (scripts/ run from a copy of the repo whose
//! lake-columns.json and canonical_merge.sql lack startup_ms) builds the table
//! from v1 raw files; then the current job, over newer raw files of a mixed
//! fleet, evolves the schema in place and appends. The v1 snapshot's data
//! files are all still referenced, byte for byte; time travel to it returns
//! its row count and columns; the current snapshot has startup_ms for v2 rows
//! and NULL for older ones. Local directory, no emulator.

mod canonical_lake;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use canonical_lake::{python, raw_rows, root, START_MS};
use loadgen::{generate, ScenarioConfig};
use playback_domain::event::format_rfc3339_ms;
use playback_domain::lake::{partition_of, LakeRow};
use serde_json::Value;

/// A copy of the repo's parts the job reads, as the v1 release had them.
fn v1_release(at: &Path) -> Result<PathBuf> {
    let copy = |rel: &str, edit: &dyn Fn(String) -> String| -> Result<()> {
        let text = std::fs::read_to_string(root().join(rel))?;
        let dst = at.join(rel);
        std::fs::create_dir_all(dst.parent().context("parent")?)?;
        Ok(std::fs::write(dst, edit(text))?)
    };
    let same = |t: String| t;
    // Every script, SQL file and the topology: what the job and its hot tier read.
    let mut dirs = vec![PathBuf::from("scripts"), PathBuf::from("infra/athena")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(root().join(&d))? {
            let rel = d.join(e?.file_name());
            let ext = rel.extension().and_then(|x| x.to_str());
            if root().join(&rel).is_dir() {
                dirs.push(rel);
            } else if matches!(ext, Some("py" | "sql")) {
                copy(rel.to_str().context("utf-8 path")?, &same)?;
            }
        }
    }
    copy("infra/pipeline.json", &same)?;
    copy("events/lake-columns.json", &|t| {
        let v2 = "    { \"name\": \"startup_ms\", \"type\": \"bigint\" },\n";
        assert!(t.contains(v2), "lake-columns.json lists startup_ms");
        t.replace(v2, "")
    })?;
    copy("infra/athena/canonical_merge.sql", &|t| {
        let v1 = t.replace("s.startup_ms, ", "").replace("startup_ms, ", "");
        assert!(!v1.contains("startup_ms"), "{v1}");
        v1
    })?;
    Ok(at.to_path_buf())
}

/// A snapshot's data files (paths) and its schema's column names.
type Snapshot = (Vec<String>, Vec<String>);

struct Job<'a> {
    release: &'a Path,
    lake: &'a Path,
}

impl Job<'_> {
    fn script(&self, script: &str, args: &[&str]) -> Result<Value> {
        let out = Command::new(python())
            .arg(self.release.join("scripts").join(script))
            .arg("--lake-dir")
            .arg(self.lake)
            .args(args)
            .env_remove("AS_OF")
            .output()
            .with_context(|| format!("scripts/{script} (make venv installs pyiceberg, DuckDB)"))?;
        ensure!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    fn query(&self, sql: &str, as_of: Option<&str>) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
        let mut args = vec!["--json", "--sql", sql];
        if let Some(a) = as_of {
            args.extend(["--as-of", a]);
        }
        let v = self.script("lake_query.py", &args)?;
        let text = |c: &Value| c.as_str().unwrap_or_default().to_string();
        let cols = v["columns"].as_array().context("columns")?;
        let rows = v["rows"].as_array().context("rows")?;
        Ok((
            cols.iter().map(text).collect(),
            rows.iter()
                .map(|r| r.as_array().cloned().unwrap_or_default())
                .collect(),
        ))
    }

    /// Every snapshot by id.
    fn snapshots(&self) -> Result<BTreeMap<String, Snapshot>> {
        let code = "import json, sys\n\
            sys.path.insert(0, sys.argv[1])\n\
            import canonical_catalog as cc\n\
            t = cc.load_table(cc.open_catalog(sys.argv[2], 'b', None, create=False), create=False)\n\
            out = {}\n\
            for s in t.metadata.snapshots:\n\
            \x20   files = sorted(f.file.file_path for f in t.scan(snapshot_id=s.snapshot_id).plan_files())\n\
            \x20   cols = [f.name for f in t.metadata.schema_by_id(s.schema_id).fields]\n\
            \x20   out[str(s.snapshot_id)] = [files, cols]\n\
            print(json.dumps(out))\n";
        let out = Command::new(python())
            .args(["-c", code])
            .arg(self.release.join("scripts"))
            .arg(self.lake)
            .output()?;
        ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    }
}

/// Each arrival hour's rows as one file named `name`, with `schema`.
fn land(
    dir: &Path,
    rows: &[(&LakeRow, i64)],
    schema: arrow_schema::SchemaRef,
    name: &str,
) -> Result<()> {
    let mut parts: BTreeMap<(String, String), Vec<LakeRow>> = BTreeMap::new();
    for (r, ms) in rows {
        parts
            .entry(partition_of(*ms))
            .or_default()
            .push((*r).clone());
    }
    for ((dt, hour), rows) in parts {
        let p = dir.join(format!("events/dt={dt}/hour={hour}"));
        std::fs::create_dir_all(&p)?;
        std::fs::write(p.join(name), lake::write_rows_with(schema.clone(), &rows)?)?;
    }
    Ok(())
}

fn local(uri: &str) -> PathBuf {
    PathBuf::from(uri.trim_start_matches("file://"))
}

#[test]
fn a_v1_table_gains_startup_ms_in_place_and_keeps_its_v1_snapshot() -> Result<()> {
    let cfg = ScenarioConfig {
        viewers: 300,
        titles: 12,
        rate: 60.0,
        duration_s: Some(240.0),
        start_time_ms: START_MS,
        pack_bytes: 2_000,
        retry_rate: 0.05,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (mut rows, arrival) = raw_rows(&g);
    let t1_ms = START_MS + 120_000;
    // Before t1 the whole fleet and the lake writer were v1: every copy of an
    // event first sent then is a v1 event.
    let first: BTreeSet<String> = rows
        .iter()
        .zip(&arrival)
        .filter(|(_, ms)| **ms <= t1_ms)
        .map(|(r, _)| r.event_id.clone())
        .collect();
    for r in rows.iter_mut().filter(|r| first.contains(&r.event_id)) {
        (r.startup_ms, r.schema_version) = (None, 1);
    }
    let full = lake::schema::arrow_schema();
    let v1_fields: Vec<_> = full
        .fields()
        .iter()
        .filter(|f| f.name() != "startup_ms")
        .cloned()
        .collect();
    let v1_schema = Arc::new(arrow_schema::Schema::new(v1_fields));
    let tmp = std::env::temp_dir().join(format!("canonical-evolution-{}", std::process::id()));
    std::fs::remove_dir_all(&tmp).ok();
    let dir = tmp.join("lake");
    let (before, after): (Vec<_>, Vec<_>) = rows
        .iter()
        .zip(arrival.iter().copied())
        .partition(|(_, ms)| *ms <= t1_ms);
    land(&dir, &before, v1_schema, "part-v1.parquet")?;
    land(&dir, &after, full, "part-v2.parquet")?;

    // The winners (first arrival per event_id): what the table must hold.
    let mut copies: BTreeMap<&str, Vec<&LakeRow>> = BTreeMap::new();
    for r in &rows {
        copies.entry(r.event_id.as_str()).or_default().push(r);
    }
    let winners: BTreeMap<&str, &LakeRow> = copies
        .iter()
        .map(|(id, c)| {
            (
                *id,
                royalty::order::winner(c.iter().copied()).expect("a copy"),
            )
        })
        .collect();
    let v2_starts = winners.values().filter(|w| w.startup_ms.is_some()).count();
    ensure!(v2_starts > 20, "{v2_starts} v2 session_starts");
    ensure!(
        winners
            .values()
            .any(|w| !first.contains(&w.event_id) && w.schema_version == 1),
        "the mixed fleet keeps v1 players after t1"
    );

    // The v1 release builds the table from the v1 window.
    let v1_root = v1_release(&tmp.join("v1-release"))?;
    let v1 = Job {
        release: &v1_root,
        lake: &dir,
    };
    let s1 = v1.script(
        "canonical.py",
        &["--json", "--until", &format_rfc3339_ms(t1_ms)],
    )?;
    let s1_id = s1["snapshot_id"].to_string();
    let v1_count = winners.keys().filter(|id| first.contains(**id)).count();
    assert_eq!(s1["rows_added"], v1_count);
    let snaps = v1.snapshots()?;
    let (v1_files, v1_cols) = snaps[&s1_id].clone();
    assert!(!v1_cols.contains(&"startup_ms".to_string()), "{v1_cols:?}");
    let v1_bytes: Vec<Vec<u8>> = v1_files
        .iter()
        .map(|f| std::fs::read(local(f)))
        .collect::<Result<_, _>>()?;

    // The current release: evolves, then appends the rest.
    let now = Job {
        release: &root(),
        lake: &dir,
    };
    let end = format_rfc3339_ms(arrival.iter().max().context("rows")? + 1);
    let s2 = now.script("canonical.py", &["--json", "--until", &end])?;
    assert_eq!(s2["columns_added"], serde_json::json!(["startup_ms"]));
    assert_eq!(s2["committed"], true);
    let s2_id = s2["snapshot_id"].to_string();

    // (a) No rewrite: every v1 data file is still referenced, unchanged.
    let snaps = now.snapshots()?;
    let (files, cols) = &snaps[&s2_id];
    assert!(cols.contains(&"startup_ms".to_string()));
    for (f, bytes) in v1_files.iter().zip(&v1_bytes) {
        assert!(files.contains(f), "{f} no longer referenced");
        assert_eq!(&std::fs::read(local(f))?, bytes, "{f} rewritten");
    }
    assert!(files.len() > v1_files.len(), "the v2 rows are new files");
    assert_eq!(snaps[&s1_id], (v1_files.clone(), v1_cols.clone()));

    // (b) Time travel to the v1 snapshot: its rows, its columns.
    let (c, r) = now.query("SELECT * FROM playback.events_canonical", Some(&s1_id))?;
    assert_eq!(c, v1_cols);
    assert_eq!(r.len(), v1_count);
    let (c, _) = now.query("SELECT * FROM playback.events_canonical LIMIT 1", None)?;
    assert_eq!(c.last().map(String::as_str), Some("startup_ms"));

    // (c) The current snapshot: startup_ms where the winner had it, else NULL.
    let (_, got) = now.query(
        "SELECT event_id, startup_ms, schema_version FROM playback.events_canonical",
        None,
    )?;
    assert_eq!(got.len(), winners.len(), "one row per event_id");
    let s = |v: &Value| v.as_str().map(str::to_string);
    let mut with = 0;
    for row in &got {
        let id = s(&row[0]).context("event_id")?;
        let w = winners[id.as_str()];
        let want = (
            w.startup_ms.map(|n| n.to_string()),
            w.schema_version.to_string(),
        );
        assert_eq!((s(&row[1]), s(&row[2]).unwrap_or_default()), want, "{id}");
        if first.contains(&id) {
            assert_eq!(s(&row[1]), None, "v1 row {id}");
        }
        with += s(&row[1]).is_some() as usize;
    }
    assert_eq!(with, v2_starts);
    std::fs::remove_dir_all(&tmp).ok();
    Ok(())
}
