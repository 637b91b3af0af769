//! long-horizon-features: the daily long-horizon feature run, one step per
//! invocation, driven by the Step Functions state machine of
//! infra/lib/long-horizon.ts (README.md: the design, the settings).
//!
//! [`App::invoke`] holds the logic over three ports: [`QueryStarter`]
//! (Athena), [`RunObjects`] (the lake's bucket) and the domain's
//! `LongHorizonStore` (the online features table). Unit tests use in-memory
//! twins (a map of objects, `MemoryFeatureStore`); [`entry`] builds the AWS
//! adapters.

pub mod entry;
pub mod training;

use std::future::Future;

use chrono::{DateTime, TimeZone, Utc};
use lake::{LakeError, ObjectStore, S3Store};
use offline_features::publish::{self, Budget, PublishReport};
use offline_features::runs::{self, runs_prefix, Manifest};
use playback_aws::emf::Metrics;
use playback_domain::ports::LongHorizonStore;
use serde::Deserialize;
use serde_json::{json, Value};

/// The function's name: the EMF `Function` dimension.
pub const FUNCTION: &str = "long-horizon-features";

/// The batch query (the definition the domain tests hold it to).
pub const QUERY: &str = include_str!("../../../infra/athena/features/long_horizon.sql");

/// The run file's columns, in order: the query's minus `as_of`, which is the
/// `as_of=<ms>` partition of the Glue table (a partition column cannot also be
/// a data column).
pub const RUN_COLUMNS: [&str; 13] = [
    "viewer_id",
    "genre_1",
    "genre_1_bp",
    "genre_2",
    "genre_2_bp",
    "genre_3",
    "genre_3_bp",
    "plays",
    "completion_bp",
    "preferred_device",
    "preferred_daypart",
    "active_days",
    "watched_ms",
];

/// Everything that can fail an invocation.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("config: {0}")]
    Config(String),
    #[error("bad event: {0}")]
    Event(String),
    #[error("athena: {0}")]
    Engine(String),
    #[error("lake: {0}")]
    Lake(#[from] LakeError),
    #[error("run: {0}")]
    Offline(#[from] offline_features::OfflineError),
}

/// Starts one Athena statement and returns its query id (Step Functions polls it).
pub trait QueryStarter: Send + Sync {
    fn start(&self, sql: &str) -> impl Future<Output = Result<String, JobError>> + Send;
}

/// The lake's bucket as the run needs it: list a prefix, read and write objects.
pub trait RunObjects: ObjectStore {
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, LakeError>> + Send;
    fn read(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, LakeError>> + Send;
    fn remove(&self, key: &str) -> impl Future<Output = Result<(), LakeError>> + Send;
}

impl RunObjects for S3Store {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        self.list_keys(prefix).await
    }
    async fn read(&self, key: &str) -> Result<Vec<u8>, LakeError> {
        self.get(key).await
    }
    async fn remove(&self, key: &str) -> Result<(), LakeError> {
        self.delete(key).await
    }
}

/// Settings, read once at cold start; a bad one fails the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub bucket: String,
    pub database: String,
    pub workgroup: String,
    pub features_table: String,
    pub ttl_days: i64,
    /// One publish invocation's budget (the Map's MaxConcurrency multiplies it).
    pub budget: Budget,
    /// Parquet files per Map item.
    pub slice_files: usize,
    /// Viewer buckets of the training build (one slice each per day).
    pub training_buckets: u32,
    /// Passes per slice over disjoint viewers (bounds a slice's memory).
    pub training_passes: u32,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn num(name: &str, default: u64, min: u64, max: u64) -> Result<u64, JobError> {
    let Some(v) = env(name) else {
        return Ok(default);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(JobError::Config(format!(
            "{name}={v:?}: a whole number {min}..={max}"
        ))),
    }
}

impl Config {
    /// From the environment; defaults from infra/pipeline.json (embedded).
    pub fn from_env() -> Result<Self, JobError> {
        let topo = playback_topology::Topology::embedded()
            .map_err(|e| JobError::Config(format!("topology: {e}")))?;
        let lake = &topo.lake;
        let features_table = env("FEATURES_TABLE").ok_or_else(|| {
            JobError::Config("FEATURES_TABLE: the online features table, required".into())
        })?;
        Ok(Config {
            bucket: env("LAKE_BUCKET").unwrap_or_else(|| lake.bucket.clone()),
            database: env("GLUE_DATABASE").unwrap_or_else(|| lake.glue_database.clone()),
            workgroup: env("ATHENA_WORKGROUP").unwrap_or_else(|| lake.athena_workgroup.clone()),
            features_table,
            ttl_days: num("FEATURES_TTL_DAYS", topo.features.ttl_days as u64, 1, 3650)? as i64,
            budget: Budget {
                writes_per_s: num("WRITES_PER_S", 500, 1, 40_000)? as f64,
                concurrency: num("CONCURRENCY", 32, 1, 1024)? as usize,
                attempts: num("ATTEMPTS", 6, 1, 20)? as usize,
            },
            slice_files: num("SLICE_FILES", 1, 1, 1000)? as usize,
            training_buckets: num(
                "TRAINING_BUCKETS",
                training::MAX_BUCKETS as u64,
                1,
                training::MAX_BUCKETS as u64,
            )? as u32,
            training_passes: num("TRAINING_PASSES", 8, 1, 64)? as u32,
        })
    }
}

/// One invocation's input: `{"action": ...}` and its fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum Action {
    /// Start the UNLOAD of the run at `as_of_ms` (absent: today 00:00 UTC).
    Compute { as_of_ms: Option<i64> },
    /// The run's Parquet keys, in slices for the Distributed Map.
    List { as_of_ms: i64 },
    /// Publish these files of the run into the online store.
    Publish {
        as_of_ms: i64,
        keys: Vec<String>,
        published_ms: i64,
    },
    /// Sum the slices' reports and write the run's manifest.
    Finish {
        as_of_ms: i64,
        published_ms: i64,
        reports: Vec<Report>,
    },
    /// Start the UNLOAD of a day's arrivals by bucket (absent: yesterday).
    #[serde(rename = "training_start")]
    TrainingStart { day: Option<String> },
    /// Every bucket of the day with its input files.
    #[serde(rename = "training_list")]
    TrainingList { day: String },
    /// Build one bucket's slice of the day.
    #[serde(rename = "training_slice")]
    TrainingSlice {
        day: String,
        bucket: u32,
        keys: Vec<String>,
    },
    /// The day's totals from the slices' listings.
    #[serde(rename = "training_finish")]
    TrainingFinish {
        day: String,
        listings: Vec<offline_features::slices::Listing>,
    },
}

/// One slice's publish report (the Map's results), and what `finish` sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Report {
    pub viewers: usize,
    pub written: usize,
    pub stale: usize,
    pub retried: usize,
}

impl Action {
    pub fn from_event(event: &Value) -> Result<Self, JobError> {
        let action = Action::deserialize(event).map_err(|e| JobError::Event(e.to_string()))?;
        match &action {
            Action::Compute { as_of_ms: Some(ms) }
            | Action::List { as_of_ms: ms }
            | Action::Publish { as_of_ms: ms, .. }
            | Action::Finish { as_of_ms: ms, .. }
                if *ms < 0 =>
            {
                Err(JobError::Event(format!("as_of_ms {ms} is before 1970")))
            }
            _ => Ok(action),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Action::Compute { .. } => "compute",
            Action::List { .. } => "list",
            Action::Publish { .. } => "publish",
            Action::Finish { .. } => "finish",
            Action::TrainingStart { .. } => "training_start",
            Action::TrainingList { .. } => "training_list",
            Action::TrainingSlice { .. } => "training_slice",
            Action::TrainingFinish { .. } => "training_finish",
        }
    }
}

/// The run's rows: `features/long_horizon/as_of=<ms>/`.
pub fn run_prefix(as_of_ms: i64) -> String {
    format!("{}as_of={as_of_ms}/", runs_prefix())
}

/// The run's manifest: `features/long_horizon/_runs/<ms>.json`.
pub fn manifest_key(as_of_ms: i64) -> String {
    format!("{}{as_of_ms}.json", manifests_prefix())
}

/// Every published run's manifest is under `features/long_horizon/_runs/`.
pub fn manifests_prefix() -> String {
    format!("{}_runs/", runs_prefix())
}

fn as_of(ms: i64) -> Result<DateTime<Utc>, JobError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| JobError::Event(format!("as_of_ms {ms} is not a time")))
}

/// The day a run at `now` computes: today 00:00 UTC (the window ends there).
pub fn default_as_of(now: DateTime<Utc>) -> i64 {
    let day = now.timestamp_millis().div_euclid(86_400_000);
    day * 86_400_000
}

/// The UNLOAD of the batch query for the run at `as_of_ms` into its prefix.
pub fn unload_sql(bucket: &str, as_of_ms: i64) -> Result<String, JobError> {
    let ts = offline_features::runs::as_of_param(as_of(as_of_ms)?.timestamp_millis())
        .ok_or_else(|| JobError::Event(format!("as_of_ms {as_of_ms} is not a time")))?;
    let query = QUERY
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("{{as_of}}", &ts);
    let query = query.trim().trim_end_matches(';');
    Ok(format!(
        "UNLOAD (SELECT {} FROM (\n{query}\n)) TO 's3://{bucket}/{}' WITH (format = 'PARQUET', compression = 'SNAPPY')",
        RUN_COLUMNS.join(", "),
        run_prefix(as_of_ms)
    ))
}

/// The handler: built once at cold start, lent to each invocation.
pub struct App<Q, O, S> {
    pub athena: Q,
    pub objects: O,
    pub store: S,
    pub cfg: Config,
    pub metrics: Metrics,
}

impl<Q: QueryStarter, O: RunObjects, S: LongHorizonStore + Sync> App<Q, O, S> {
    /// One invocation; an error fails it (the state machine's retry, then its
    /// failed-execution alarm).
    pub async fn invoke(&self, event: &Value, now: DateTime<Utc>) -> Result<Value, JobError> {
        let action = Action::from_event(event)?;
        let name = action.name();
        let out = match action {
            Action::Compute { as_of_ms } => {
                let as_of_ms = as_of_ms.unwrap_or_else(|| default_as_of(now));
                // A re-run replaces the run's files (UNLOAD needs an empty prefix).
                let prefix = run_prefix(as_of_ms);
                let mut removed = 0;
                for key in self.objects.list(&prefix).await? {
                    self.objects.remove(&key).await?;
                    removed += 1;
                }
                let query_id = self
                    .athena
                    .start(&unload_sql(&self.cfg.bucket, as_of_ms)?)
                    .await?;
                tracing::info!(as_of_ms, %query_id, removed, "long-horizon UNLOAD started");
                json!({"as_of_ms": as_of_ms, "query_id": query_id})
            }
            Action::List { as_of_ms } => {
                let keys: Vec<String> = self
                    .objects
                    .list(&run_prefix(as_of_ms))
                    .await?
                    .into_iter()
                    .filter(|k| !k.ends_with('/'))
                    .collect();
                let slices: Vec<Vec<String>> = keys
                    .chunks(self.cfg.slice_files.max(1))
                    .map(<[String]>::to_vec)
                    .collect();
                json!({"as_of_ms": as_of_ms, "published_ms": now.timestamp_millis(),
                       "files": keys.len(), "slices": slices})
            }
            Action::Publish {
                as_of_ms,
                keys,
                published_ms,
            } => {
                let prefix = run_prefix(as_of_ms);
                if let Some(k) = keys.iter().find(|k| !k.starts_with(&prefix)) {
                    return Err(JobError::Event(format!("key {k:?} is not under {prefix}")));
                }
                let mut report = Report::default();
                for key in &keys {
                    let rows = runs::read_run(self.objects.read(key).await?, as_of_ms)?;
                    let r: PublishReport =
                        publish::publish(&self.store, &rows, published_ms, self.cfg.budget).await?;
                    report.viewers += rows.len();
                    report.written += r.written;
                    report.stale += r.stale;
                    report.retried += r.retried;
                }
                self.metrics.emit(
                    &[("Function", FUNCTION), ("Action", "publish")],
                    &[
                        ("LongHorizonWritten", report.written as f64, "Count"),
                        ("LongHorizonStale", report.stale as f64, "Count"),
                        ("LongHorizonRetried", report.retried as f64, "Count"),
                    ],
                );
                serde_json::to_value(report).expect("a report serialises")
            }
            Action::Finish {
                as_of_ms,
                published_ms,
                reports,
            } => {
                let m = Manifest {
                    as_of_ms,
                    published_ms,
                    viewers: reports.iter().map(|r| r.viewers).sum(),
                    written: reports.iter().map(|r| r.written).sum(),
                    stale: reports.iter().map(|r| r.stale).sum(),
                };
                let body = serde_json::to_vec_pretty(&m).expect("a manifest serialises");
                self.objects.put(&manifest_key(as_of_ms), body).await?;
                self.metrics.emit(
                    &[("Function", FUNCTION), ("Action", "finish")],
                    &[
                        ("LongHorizonViewers", m.viewers as f64, "Count"),
                        (
                            "LongHorizonRunLagSeconds",
                            ((now.timestamp_millis() - as_of_ms) / 1000) as f64,
                            "Seconds",
                        ),
                    ],
                );
                json!({"manifest": manifest_key(as_of_ms), "viewers": m.viewers,
                       "written": m.written, "stale": m.stale})
            }
            Action::TrainingStart { day } => self.training_start(day, now).await?,
            Action::TrainingList { day } => self.training_list(day).await?,
            Action::TrainingSlice { day, bucket, keys } => {
                self.training_slice(day, bucket, keys).await?
            }
            Action::TrainingFinish { day, listings } => self.training_finish(day, listings, now)?,
        };
        tracing::info!(action = name, result = %out, "long-horizon step done");
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
