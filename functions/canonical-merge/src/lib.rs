//! canonical-merge: feeds the canonical Iceberg table playback.events_canonical
//! on Athena, one window of arrivals per invocation (README.md: the design, the
//! settings). [`job`] holds the logic over a [`SqlEngine`] port (unit tests use
//! an in-memory fake); [`entry`] is the Athena adapter and the Lambda entry.

pub mod entry;
pub mod hot;
pub mod job;
pub mod sql;

use std::future::Future;

use chrono::{DateTime, Duration, Utc};

pub use job::{run, Action, Report};

/// Everything that can fail an invocation.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("config: {0}")]
    Config(String),
    #[error("SQL template: {0}")]
    Template(String),
    #[error("bad event: {0}")]
    Event(String),
    /// The engine could not run the statement, or it failed.
    #[error("sql engine: {0}")]
    Engine(String),
    /// A statement answered something the job cannot read.
    #[error("bad answer: {0}")]
    Answer(String),
}

/// What a statement returned: rows as text (NULL as None) and the bytes scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub rows: Vec<Vec<Option<String>>>,
    pub bytes_scanned: u64,
}

/// The SQL engine port: run one statement, wait for it, return its rows.
pub trait SqlEngine {
    fn run(&self, sql: &str) -> impl Future<Output = Result<Answer, JobError>> + Send;
}

/// Settings, read once at cold start; a bad one fails the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bucket: String,
    /// The table's S3 prefix (ends with '/').
    pub canonical_prefix: String,
    /// The hot tier's rollups live under this prefix (ends with '/').
    pub hot_prefix: String,
    pub workgroup: String,
    pub database: String,
    /// `database.events_canonical`.
    pub table: String,
    /// horizon = now - settle (2 x lake.buffer_s: every row up to it has landed).
    pub settle: Duration,
    /// The watermark reads canonical rows of event days >= horizon - this.
    pub lookback_days: u32,
    /// ...first only those that arrived after horizon - this (4 merge intervals).
    pub watermark_recent: Duration,
    /// OPTIMIZE rewrites event days >= now - this.
    pub optimize_days: u32,
    /// Snapshots older than this are expired by VACUUM (royalty audits time-travel).
    pub retention_days: u32,
    /// The watermark of an empty table.
    pub start: DateTime<Utc>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn num(name: &str, default: u32, max: u32) -> Result<u32, JobError> {
    let Some(v) = env(name) else {
        return Ok(default);
    };
    match v.trim().parse::<u32>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(JobError::Config(format!(
            "{name}={v:?}: a whole number 0..={max}"
        ))),
    }
}

fn ident(name: &str, v: &str) -> Result<(), JobError> {
    let ok = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if ok {
        Ok(())
    } else {
        Err(JobError::Config(format!(
            "{name}={v:?}: letters, digits, _ - . / only"
        )))
    }
}

impl Config {
    /// From the environment; defaults from infra/pipeline.json (embedded).
    pub fn from_env() -> Result<Self, JobError> {
        let topo = playback_topology::Topology::embedded()
            .map_err(|e| JobError::Config(format!("topology: {e}")))?;
        let lake = &topo.lake;
        let c = &topo.canonical;
        let bucket = env("LAKE_BUCKET").unwrap_or_else(|| lake.bucket.clone());
        let canonical_prefix = env("CANONICAL_PREFIX").unwrap_or_else(|| "canonical/".into());
        let hot_prefix = env("HOT_PREFIX").unwrap_or_else(|| "hot/".into());
        let workgroup = env("ATHENA_WORKGROUP").unwrap_or_else(|| lake.athena_workgroup.clone());
        let database = env("GLUE_DATABASE").unwrap_or_else(|| lake.glue_database.clone());
        for (n, v) in [
            ("LAKE_BUCKET", &bucket),
            ("CANONICAL_PREFIX", &canonical_prefix),
            ("HOT_PREFIX", &hot_prefix),
            ("ATHENA_WORKGROUP", &workgroup),
            ("GLUE_DATABASE", &database),
        ] {
            ident(n, v)?;
        }
        for (n, v) in [
            ("CANONICAL_PREFIX", &canonical_prefix),
            ("HOT_PREFIX", &hot_prefix),
        ] {
            if !v.ends_with('/') {
                return Err(JobError::Config(format!("{n} must end with '/'")));
            }
        }
        let default_settle = 2 * u32::try_from(lake.buffer_s).unwrap_or(u32::MAX / 2);
        let settle_s = num("SETTLE_S", default_settle, 86_400)?;
        let start = match env("START_TIME") {
            None => DateTime::<Utc>::UNIX_EPOCH,
            Some(v) => DateTime::parse_from_rfc3339(v.trim())
                .map_err(|e| JobError::Config(format!("START_TIME={v:?}: {e}")))?
                .with_timezone(&Utc),
        };
        Ok(Config {
            table: format!("{database}.events_canonical"),
            bucket,
            canonical_prefix,
            hot_prefix,
            workgroup,
            database,
            settle: Duration::seconds(i64::from(settle_s)),
            lookback_days: num("LOOKBACK_DAYS", c.lookback_days, 366)?,
            watermark_recent: Duration::minutes(4 * i64::from(c.merge_every_minutes)),
            optimize_days: num("OPTIMIZE_DAYS", c.optimize_days, 366)?,
            retention_days: num("RETENTION_DAYS", c.retention_days, 3650)?,
            start,
        })
    }
}

#[cfg(test)]
mod tests;
