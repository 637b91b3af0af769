//! Athena engine: StartQueryExecution, GetQueryExecution polling,
//! GetQueryResults pagination; ledger partitions written with UNLOAD.

use std::time::Duration;

use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};
use aws_sdk_athena::Client;
use backon::Retryable;

use crate::engine::{QueryEngine, Rows};
use crate::RoyaltyError;

#[derive(Debug, Clone)]
pub struct AthenaEngine {
    pub client: Client,
    pub workgroup: String,
    pub database: String,
    /// Gives up on a query after this long (the Lambda has 15 minutes).
    pub timeout: Duration,
    /// First poll delay; doubles up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
}

/// One look at a query: still running, or done for good (an error).
enum Poll {
    Running,
    Done(RoyaltyError),
}

fn sdk<E: std::error::Error>(what: &str, e: E) -> RoyaltyError {
    RoyaltyError::Engine(format!("athena {what}: {}", DisplayErrorContext(&e)))
}

impl AthenaEngine {
    pub fn new(client: Client, workgroup: &str, database: &str) -> Self {
        AthenaEngine {
            client,
            workgroup: workgroup.into(),
            database: database.into(),
            timeout: Duration::from_secs(600),
            first_poll: Duration::from_millis(250),
            max_poll: Duration::from_secs(5),
        }
    }

    /// Starts a query and waits for it; returns its id.
    pub async fn execute(&self, sql: &str) -> Result<String, RoyaltyError> {
        let started = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.database)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk("StartQueryExecution", e))?;
        let id = started
            .query_execution_id()
            .ok_or_else(|| RoyaltyError::Engine("StartQueryExecution returned no id".into()))?
            .to_string();
        // Polled by the workspace's backoff (doubling from `first_poll` up to
        // `max_poll`) until the query ends or `timeout` has been waited.
        let poll = || async {
            let got = self
                .client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| Poll::Done(sdk("GetQueryExecution", e)))?;
            let exec = got.query_execution();
            let status = exec.and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => {
                    let scanned = exec
                        .and_then(|q| q.statistics())
                        .and_then(|s| s.data_scanned_in_bytes());
                    tracing::info!(query_id = %id, bytes_scanned = ?scanned, "athena query done");
                    Ok(())
                }
                Some(QueryExecutionState::Failed) | Some(QueryExecutionState::Cancelled) => {
                    let why = status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given");
                    Err(Poll::Done(RoyaltyError::Query(format!(
                        "athena query {id}: {why}"
                    ))))
                }
                _ => Err(Poll::Running),
            }
        };
        let backoff = playback_aws::retry::readiness(self.timeout)
            .with_min_delay(self.first_poll)
            .with_max_delay(self.max_poll);
        match poll
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|p| matches!(p, Poll::Running))
            .await
        {
            Ok(()) => Ok(id),
            Err(Poll::Done(e)) => Err(e),
            Err(Poll::Running) => {
                let _ = self
                    .client
                    .stop_query_execution()
                    .query_execution_id(&id)
                    .send()
                    .await;
                Err(RoyaltyError::Query(format!(
                    "athena query {id} still running after {:?}; stopped",
                    self.timeout
                )))
            }
        }
    }

    /// All result rows of a finished query, page by page.
    pub async fn results(&self, id: &str) -> Result<Rows, RoyaltyError> {
        let mut out = Rows::default();
        let mut token: Option<String> = None;
        let mut first_page = true;
        loop {
            let page = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| sdk("GetQueryResults", e))?;
            let Some(set) = page.result_set() else { break };
            if first_page {
                out.columns = set
                    .result_set_metadata()
                    .map(|m| {
                        m.column_info()
                            .iter()
                            .map(|c| c.name().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
            }
            let mut rows: Vec<Vec<Option<String>>> = set
                .rows()
                .iter()
                .map(|r| {
                    r.data()
                        .iter()
                        .map(|d| d.var_char_value().map(str::to_string))
                        .collect()
                })
                .collect();
            // A SELECT's first row repeats the column names.
            let header: Vec<Option<String>> = out.columns.iter().cloned().map(Some).collect();
            if first_page && rows.first() == Some(&header) {
                rows.remove(0);
            }
            out.rows.extend(rows);
            first_page = false;
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(out)
    }
}

/// The UNLOAD statement writing `sql`'s result under `s3://bucket/prefix`.
/// The query is nested as a subquery so any WITH clause stays valid.
pub fn unload_sql(sql: &str, bucket: &str, prefix: &str) -> String {
    format!(
        "UNLOAD (SELECT * FROM (\n{}\n)) TO 's3://{bucket}/{prefix}' \
         WITH (format = 'PARQUET', compression = 'SNAPPY')",
        sql.trim_end().trim_end_matches(';')
    )
}

impl QueryEngine for AthenaEngine {
    async fn query(&self, sql: &str) -> Result<Rows, RoyaltyError> {
        let id = self.execute(sql).await?;
        self.results(&id).await
    }

    async fn write_parquet(
        &self,
        sql: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<(), RoyaltyError> {
        self.execute(&unload_sql(sql, bucket, prefix))
            .await
            .map(|_| ())
    }

    async fn ensure_ledger_table(&self, ddl: &str) -> Result<(), RoyaltyError> {
        self.execute(ddl).await.map(|_| ())
    }

    fn name(&self) -> &'static str {
        "athena"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unload_wraps_the_query() {
        let sql = unload_sql(
            "-- c\nWITH a AS (SELECT 1 AS x) SELECT x FROM a;\n",
            "b",
            "l/close_id=2026-03-01/",
        );
        assert_eq!(
            sql,
            "UNLOAD (SELECT * FROM (\n-- c\nWITH a AS (SELECT 1 AS x) SELECT x FROM a\n)) \
             TO 's3://b/l/close_id=2026-03-01/' WITH (format = 'PARQUET', compression = 'SNAPPY')"
        );
    }
}
