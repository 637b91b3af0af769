use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use playback_aws::emf::Metrics;
use serde_json::{json, Value};

use crate::{job, sql, Action, Answer, Config, JobError, SqlEngine};

/// In-memory engine: answers by statement kind, records every statement,
/// fails the first statement containing `fail_on`.
#[derive(Default)]
struct Fake {
    watermark: Option<String>,
    /// No canonical row arrived recently: the first watermark read is NULL.
    stalled: bool,
    hot_watermark: Option<String>,
    days: Vec<&'static str>,
    /// The table's columns (None: those of canonical_table.sql).
    columns: Option<Vec<&'static str>>,
    fail_on: Option<&'static str>,
    seen: Mutex<Vec<String>>,
}

impl Fake {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
    fn kinds(&self) -> Vec<&'static str> {
        self.seen().iter().map(|s| kind(s)).collect()
    }
}

fn kind(s: &str) -> &'static str {
    let body: String = s
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let body = body.trim_start();
    let hot = body.contains("playback.hot_");
    if hot && body.starts_with("CREATE TABLE IF NOT EXISTS") {
        "hot-create"
    } else if hot && body.contains("AS watermark") {
        "hot-watermark"
    } else if hot && body.starts_with("MERGE INTO") {
        "hot-merge"
    } else if hot && body.starts_with("DELETE FROM") {
        "hot-expire"
    } else if body.starts_with("CREATE TABLE IF NOT EXISTS") {
        "create"
    } else if body.contains("information_schema.columns") {
        "columns"
    } else if body.starts_with("ALTER TABLE") {
        "alter"
    } else if body.contains("AS watermark") {
        "watermark"
    } else if body.starts_with("SELECT DISTINCT") {
        "days"
    } else if body.starts_with("MERGE INTO") {
        "merge"
    } else if body.starts_with("OPTIMIZE") {
        "optimize"
    } else if body.starts_with("VACUUM") {
        "vacuum"
    } else {
        "other"
    }
}

impl SqlEngine for Fake {
    async fn run(&self, stmt: &str) -> Result<Answer, JobError> {
        self.seen.lock().unwrap().push(stmt.to_string());
        if self.fail_on.is_some_and(|f| stmt.contains(f)) {
            return Err(JobError::Engine("athena query q-1: FAILED".into()));
        }
        let rows = match kind(stmt) {
            "watermark" if self.stalled && !stmt.contains("1970-01-01") => vec![vec![None]],
            "watermark" => vec![vec![self.watermark.clone()]],
            "hot-watermark" => vec![vec![self.hot_watermark.clone()]],
            "columns" => match &self.columns {
                Some(c) => c.iter().map(|n| vec![Some(n.to_string())]).collect(),
                None => (sql::table_columns().unwrap().iter())
                    .map(|(n, _)| vec![Some(n.to_uppercase())])
                    .collect(),
            },
            "days" => self
                .days
                .iter()
                .map(|d| vec![Some(d.to_string())])
                .collect(),
            _ => vec![],
        };
        Ok(Answer {
            rows,
            bytes_scanned: 1000,
        })
    }
}

/// What every merge run ends with: the rollups created if absent, then each
/// one's watermark read and its MERGE run.
const HOT: [&str; 9] = [
    "hot-create",
    "hot-create",
    "hot-create",
    "hot-watermark",
    "hot-merge",
    "hot-watermark",
    "hot-merge",
    "hot-watermark",
    "hot-merge",
];

fn with_hot(kinds: &[&'static str]) -> Vec<&'static str> {
    kinds.iter().copied().chain(HOT).collect()
}

fn cfg() -> Config {
    Config {
        bucket: "lake-bucket".into(),
        canonical_prefix: "canonical/".into(),
        hot_prefix: "hot/".into(),
        workgroup: "playback".into(),
        database: "playback".into(),
        table: "playback.events_canonical".into(),
        settle: Duration::seconds(600),
        lookback_days: 3,
        watermark_recent: Duration::minutes(60),
        optimize_days: 2,
        retention_days: 35,
        start: DateTime::<Utc>::UNIX_EPOCH,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

fn metric(m: &Metrics, name: &str) -> Option<f64> {
    m.documents()
        .iter()
        .rev()
        .find_map(|d| d.get(name).and_then(Value::as_f64))
}

#[tokio::test]
async fn a_merge_run_creates_reads_the_watermark_the_days_then_merges() {
    let fake = Fake {
        watermark: Some("2026-03-02 10:00:00.500".into()),
        days: vec!["2026-03-02", "2026-02-20"],
        ..Fake::default()
    };
    let m = Metrics::memory();
    let r = job::run(&fake, &cfg(), Action::Merge, now(), &m)
        .await
        .unwrap();
    assert_eq!(
        fake.kinds(),
        with_hot(&["create", "columns", "watermark", "days", "merge"])
    );
    assert!(r.merged);
    assert_eq!(r.hot, 3);
    assert_eq!(r.statements, 14);
    assert_eq!(r.bytes_scanned, 14_000);
    let seen = fake.seen();
    // horizon = now - settle; the window starts at the watermark's hour.
    let merge = &seen[4];
    assert!(merge.contains("ingest_time > CAST('2026-03-02 10:00:00.500' AS TIMESTAMP)"));
    assert!(merge.contains("ingest_time <= CAST('2026-03-02 11:50:00.000' AS TIMESTAMP)"));
    assert!(merge.contains("dt >= '2026-03-02'") && merge.contains("hour >= '10'"));
    // The target restricted to the touched event days (sorted), in the ON clause.
    let on = &merge[merge.find("ON t.event_id = s.event_id").unwrap()
        ..merge.rfind("WHEN NOT MATCHED").unwrap()];
    assert!(on.contains(
        "(t.event_time >= TIMESTAMP '2026-02-20 00:00:00' AND t.event_time < TIMESTAMP '2026-02-21 00:00:00') OR \
         (t.event_time >= TIMESTAMP '2026-03-02 00:00:00' AND t.event_time < TIMESTAMP '2026-03-03 00:00:00')"
    ));
    assert!(!merge.contains("{{"), "unresolved placeholder in {merge}");
    // The watermark reads event days from horizon - lookback (3 days).
    assert!(seen[2].contains("event_time >= CAST('2026-02-27 00:00:00.000' AS TIMESTAMP)"));
    // The days query runs the same window's selection.
    assert!(seen[3].contains("ingest_time > CAST('2026-03-02 10:00:00.500' AS TIMESTAMP)"));
    assert!(seen[0].contains("LOCATION 's3://lake-bucket/canonical/'"));
    assert!(seen[0].contains("'vacuum_max_snapshot_age_seconds' = '3024000'"));
    // Lag after a merge: now - horizon = the settle time.
    assert_eq!(metric(&m, "CanonicalWatermarkLagSeconds"), Some(600.0));
    assert_eq!(metric(&m, "CanonicalBytesScanned"), Some(14_000.0));
    assert_eq!(metric(&m, "CanonicalFailures"), Some(0.0));
}

#[tokio::test]
async fn an_empty_table_starts_from_the_configured_start() {
    let fake = Fake {
        watermark: None,
        days: vec!["2026-03-01"],
        ..Fake::default()
    };
    let r = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    assert_eq!(r.watermark, Some(DateTime::<Utc>::UNIX_EPOCH));
    let merge = &fake.seen()[4];
    assert!(merge.contains("ingest_time > CAST('1970-01-01 00:00:00.000' AS TIMESTAMP)"));
    assert!(merge.contains("dt >= '1970-01-01'"));
}

#[tokio::test]
async fn no_merge_when_the_horizon_is_not_past_the_watermark() {
    for wm in ["2026-03-02 11:50:00", "2026-03-02 11:55:00.250"] {
        let fake = Fake {
            watermark: Some(wm.into()),
            days: vec!["2026-03-02"],
            ..Fake::default()
        };
        let m = Metrics::memory();
        let r = job::run(&fake, &cfg(), Action::Merge, now(), &m)
            .await
            .unwrap();
        // Nothing to merge, but the rollups still catch up (a run that died
        // after its merge left them behind).
        assert_eq!(
            fake.kinds(),
            with_hot(&["create", "columns", "watermark"]),
            "watermark {wm}"
        );
        assert!(!r.merged);
        // Committed up to the watermark: lag = now - watermark.
        let lag = (now() - job::parse_ts(wm).unwrap()).num_milliseconds() as f64 / 1000.0;
        assert_eq!(metric(&m, "CanonicalWatermarkLagSeconds"), Some(lag));
    }
}

#[tokio::test]
async fn no_merge_when_the_window_has_no_rows() {
    let fake = Fake {
        watermark: Some("2026-03-02 11:00:00".into()),
        days: vec![],
        ..Fake::default()
    };
    let r = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    assert_eq!(
        fake.kinds(),
        with_hot(&["create", "columns", "watermark", "days"])
    );
    assert!(!r.merged);
}

#[tokio::test]
async fn an_athena_failure_fails_the_invocation() {
    for (fail_on, ran) in [
        ("CREATE TABLE", 1),
        ("information_schema", 2),
        ("AS watermark", 3),
        ("SELECT DISTINCT", 4),
        ("MERGE INTO playback.events_canonical", 5),
        ("MERGE INTO playback.hot_viewer_sessions_hour", 12),
    ] {
        let fake = Fake {
            watermark: Some("2026-03-02 10:00:00".into()),
            days: vec!["2026-03-02"],
            fail_on: Some(fail_on),
            ..Fake::default()
        };
        let m = Metrics::memory();
        let got = job::run(&fake, &cfg(), Action::Merge, now(), &m).await;
        assert!(
            matches!(got, Err(JobError::Engine(_))),
            "{fail_on}: {got:?}"
        );
        assert_eq!(fake.seen().len(), ran, "{fail_on}: stops at the failure");
        assert_eq!(metric(&m, "CanonicalFailures"), Some(1.0));
        // No lag datapoint: the alarm treats missing data as breaching.
        assert_eq!(metric(&m, "CanonicalWatermarkLagSeconds"), None);
    }
}

#[tokio::test]
async fn a_bad_watermark_or_day_fails_the_invocation() {
    let fake = Fake {
        watermark: Some("yesterday".into()),
        ..Fake::default()
    };
    let got = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory()).await;
    assert!(matches!(got, Err(JobError::Answer(_))), "{got:?}");
    let fake = Fake {
        watermark: Some("2026-03-02 10:00:00".into()),
        days: vec!["2026-13-01"],
        ..Fake::default()
    };
    let got = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory()).await;
    assert!(matches!(got, Err(JobError::Answer(_))), "{got:?}");
    assert_eq!(fake.kinds(), ["create", "columns", "watermark", "days"]);
}

#[test]
fn actions_from_the_event() {
    assert_eq!(Action::from_event(&json!({})).unwrap(), Action::Merge);
    assert_eq!(
        Action::from_event(&json!({"source": "aws.events"})).unwrap(),
        Action::Merge
    );
    assert_eq!(
        Action::from_event(&json!({"action": "optimize"})).unwrap(),
        Action::Optimize
    );
    assert_eq!(
        Action::from_event(&json!({"action": "vacuum"})).unwrap(),
        Action::Vacuum
    );
    assert!(Action::from_event(&json!({"action": "drop"})).is_err());
    assert!(Action::from_event(&json!({"action": 1})).is_err());
}

#[test]
fn the_rendered_statements_have_no_placeholders_left() {
    let wm = Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 59).unwrap();
    let days = [NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()];
    for s in [
        sql::merge_sql(wm, now(), &days).unwrap(),
        sql::days_sql(wm, now()).unwrap(),
        sql::table_sql("b", "canonical/", 1).unwrap(),
        sql::watermark_sql(wm, wm).unwrap(),
        sql::add_columns_sql(&[("startup_ms", "bigint")]).unwrap(),
        sql::columns_sql("playback.events_canonical").unwrap(),
    ] {
        assert!(!s.contains("{{") && !s.contains("}}"), "{s}");
        assert!(!s.contains('\u{0}'));
    }
    // A missing value is an error, never sent.
    assert!(matches!(
        sql::render(sql::MERGE_SQL, &[("watermark", "x")]),
        Err(JobError::Template(_))
    ));
    assert!(sql::render("a '{{v}}'", &[("v", "x' OR '1")]).is_err());
    assert!(sql::target_days(&[]).is_err());
    assert!(sql::add_columns_sql(&[]).is_err());
    assert!(sql::columns_sql("events_canonical").is_err());
    assert!(sql::columns_sql("playback.x' OR '1").is_err());
}

#[test]
fn the_table_ddl_has_the_lake_columns() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/lake-columns.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let want: Vec<(String, String)> = file["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    let ddl = sql::TABLE_SQL;
    let body = &ddl[ddl.find("events_canonical (").unwrap() + "events_canonical (".len()
        ..ddl.find("\n)\n").unwrap()];
    let got: Vec<(String, String)> = body
        .split(',')
        .map(|c| {
            let mut w = c.split_whitespace();
            (w.next().unwrap().into(), w.next().unwrap().into())
        })
        .collect();
    assert_eq!(got, want);
    let parsed: Vec<(String, String)> = (sql::table_columns().unwrap().into_iter())
        .map(|(n, t)| (n.into(), t.into()))
        .collect();
    assert_eq!(parsed, want);
    assert!(ddl.contains("PARTITIONED BY (day(event_time))"));
    assert!(ddl.contains("'table_type' = 'ICEBERG'"));
}

#[path = "tests_evolution.rs"]
mod evolution;

#[path = "tests_hot.rs"]
mod hot;
