//! The AWS job and the local job agree. functions/canonical-merge's own job
//! logic (`job::run`: watermark from the data, event days, the MERGE with its
//! target-day ON clause, then the hot tier's watermark and MERGE per rollup)
//! runs against a DuckDB stand-in for Athena (tests/support/athena_twin.py)
//! holding the local tables as they were after a first window; the local job
//! (scripts/canonical.py: DuckDB selection, pyiceberg anti-join and append,
//! hot_tier.py overwrite) runs the second window. Both end with the same
//! canonical rows and the same rollups, row for row.

mod canonical_lake;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::{ensure, Context, Result};
use canonical_lake::{python, raw_rows, root, script, write_lake};
use canonical_merge::{job, Action, Answer, Config, JobError, SqlEngine};
use chrono::{DateTime, Duration, Utc};
use loadgen::{generate, ScenarioConfig};
use playback_aws::emf::Metrics;
use serde_json::{json, Value};

const HOT: [&str; 3] = [
    "hot_title_region_hour",
    "hot_viewer_sessions_hour",
    "hot_errors_hour",
];

struct Twin {
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl Twin {
    fn start(dir: &Path, tables: &[(&str, String)]) -> Result<Self> {
        let mut cmd = Command::new(python());
        cmd.arg(root().join("tests/support/athena_twin.py"))
            .arg("--lake-dir")
            .arg(dir);
        for (t, snap) in tables {
            cmd.arg("--materialize").arg(format!("{t}={snap}"));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("athena_twin.py (make venv)")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("stdout")?);
        Ok(Twin {
            child,
            io: Mutex::new((stdin, stdout)),
        })
    }

    fn ask(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, JobError> {
        let mut io = self.io.lock().expect("twin lock");
        let fail = |e: std::io::Error| JobError::Engine(format!("twin: {e}"));
        writeln!(io.0, "{}", json!({ "sql": sql })).map_err(fail)?;
        let mut line = String::new();
        io.1.read_line(&mut line).map_err(fail)?;
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| JobError::Engine(format!("twin answered {line:?}: {e}")))?;
        if let Some(e) = v.get("error") {
            return Err(JobError::Engine(format!("{e}\n{sql}")));
        }
        serde_json::from_value(v["rows"].clone()).map_err(|e| JobError::Answer(e.to_string()))
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl SqlEngine for Twin {
    async fn run(&self, sql: &str) -> Result<Answer, JobError> {
        Ok(Answer {
            rows: self.ask(sql)?,
            bytes_scanned: 0,
        })
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Every row of a table, sorted, as text (NULL as None).
fn sorted(sql_table: &str) -> String {
    format!("SELECT * FROM playback.{sql_table} ORDER BY 1, 2, 3, 4")
}

fn local_rows(dir: &Path, table: &str) -> Result<Vec<Vec<Option<String>>>> {
    let v: Value = serde_json::from_slice(&script(
        dir,
        "lake_query.py",
        &["--json", "--sql", &sorted(table)],
    )?)?;
    Ok(serde_json::from_value(v["rows"].clone())?)
}

#[tokio::test]
async fn the_athena_job_and_the_local_job_commit_the_same_rows() -> Result<()> {
    let now = Utc::now();
    let cfg = ScenarioConfig {
        viewers: 250,
        titles: 10,
        rate: 50.0,
        duration_s: Some(240.0),
        start_time_ms: now.timestamp_millis() - 4 * 3_600_000,
        pack_bytes: 2_000,
        retry_rate: 0.08,
        late_rate: 0.05,
        late_hours: 2.0,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let dir = std::env::temp_dir().join(format!("canonical-twin-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &rows, &arrival)?;
    let last = *arrival.iter().max().context("rows")?;
    let mid = DateTime::from_timestamp_millis(cfg.start_time_ms + 120_000).context("mid")?;
    let end = DateTime::from_timestamp_millis(last + 1).context("end")?;

    // Window 1 locally; remember every table's snapshot.
    let first = serde_json::from_slice::<Value>(&script(
        &dir,
        "canonical.py",
        &["--json", "--until", &ts(mid)],
    )?)?;
    ensure!(first["committed"] == true, "{first}");
    let mut at_first = vec![("events_canonical", first["snapshot_id"].to_string())];
    for t in HOT {
        at_first.push((t, first["hot"][t]["snapshot_id"].to_string()));
    }
    // Window 2: the local job...
    let second = serde_json::from_slice::<Value>(&script(
        &dir,
        "canonical.py",
        &["--json", "--until", &ts(end)],
    )?)?;
    ensure!(second["committed"] == true, "{second}");

    // ...and the Lambda's job from the same starting state.
    let twin = Twin::start(&dir, &at_first)?;
    let job_cfg = Config {
        bucket: "lake".into(),
        canonical_prefix: "canonical/".into(),
        hot_prefix: "hot/".into(),
        workgroup: "playback".into(),
        database: "playback".into(),
        table: "playback.events_canonical".into(),
        settle: Duration::zero(),
        lookback_days: 3,
        watermark_recent: Duration::minutes(60),
        optimize_days: 2,
        retention_days: 35,
        start: DateTime::<Utc>::UNIX_EPOCH,
    };
    let report = job::run(&twin, &job_cfg, Action::Merge, end, &Metrics::memory()).await?;
    ensure!(report.merged && report.hot == 3, "{report:?}");
    // The Lambda's watermark is the data's max(ingest_time), at most the local horizon.
    let w = report.watermark.context("watermark")?;
    ensure!(
        w <= mid && w > mid - Duration::minutes(5),
        "watermark {w} vs {mid}"
    );

    for table in std::iter::once("events_canonical").chain(HOT) {
        let athena = twin.ask(&sorted(table))?;
        let local = local_rows(&dir, table)?;
        ensure!(!local.is_empty(), "{table} empty");
        ensure!(
            athena.len() == local.len(),
            "{table}: {} rows on the Athena job, {} locally",
            athena.len(),
            local.len()
        );
        for (a, l) in athena.iter().zip(&local) {
            ensure!(a == l, "{table}: Athena job row {a:?}\nlocal row {l:?}");
        }
    }
    drop(twin);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
