//! The Athena adapter of [`SqlEngine`] (the workspace's one Athena runner,
//! `playback_aws::athena`) and the Lambda entry point.

use chrono::Utc;
use playback_aws::athena::{AthenaError, AthenaRunner};
use playback_aws::emf::Metrics;
use serde_json::Value;

use crate::{job, Action, Answer, Config, JobError, SqlEngine};

/// Athena behind the port: every statement waits for its end; rows from
/// GetQueryResults (a SELECT's header row dropped).
pub struct Athena(pub AthenaRunner);

impl SqlEngine for Athena {
    async fn run(&self, sql: &str) -> Result<Answer, JobError> {
        let err = |e: AthenaError| JobError::Engine(e.to_string());
        let done = self.0.run(sql).await.map_err(err)?;
        let rows = self.0.results(&done.query_id).await.map_err(err)?;
        Ok(Answer {
            rows: rows.rows,
            bytes_scanned: done.bytes_scanned,
        })
    }
}

/// The handler: built once at cold start, lent to each invocation.
pub struct App<E> {
    pub engine: E,
    pub cfg: Config,
    pub metrics: Metrics,
}

pub fn build(conf: &aws_config::SdkConfig, cfg: Config) -> App<Athena> {
    let client = aws_sdk_athena::Client::new(conf);
    let runner = AthenaRunner::new(client, &cfg.workgroup, &cfg.database);
    App {
        engine: Athena(runner),
        cfg,
        metrics: Metrics::from_env(),
    }
}

impl<E: SqlEngine> App<E> {
    /// One invocation; an error fails it (Lambda's Errors metric, the alarm).
    pub async fn invoke(&self, event: &Value) -> Result<Value, JobError> {
        let action = Action::from_event(event)?;
        let report = job::run(&self.engine, &self.cfg, action, Utc::now(), &self.metrics).await?;
        tracing::info!(action = action.name(), ?report, "canonical job done");
        Ok(report.to_json(action))
    }
}
