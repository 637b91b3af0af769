//! The workspace's one Athena runner: StartQueryExecution, GetQueryExecution
//! polling (the workspace's backoff), GetQueryResults pagination. The royalty
//! close (`royalty::AthenaEngine`) and the canonical-merge job wrap it.

use std::time::Duration;

use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};
use aws_sdk_athena::Client;
use backon::Retryable;

/// Why a query did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    /// An Athena API call failed (or answered something unusable).
    #[error("{0}")]
    Sdk(String),
    /// Athena ran the query and it failed, was cancelled or timed out.
    #[error("{0}")]
    Query(String),
}

/// A query result with every value as text (NULL as None): GetQueryResults' shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A finished query: its id and the bytes Athena scanned (what it bills).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub query_id: String,
    pub bytes_scanned: u64,
}

#[derive(Debug, Clone)]
pub struct AthenaRunner {
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
    Done(AthenaError),
}

fn sdk<E: std::error::Error>(what: &str, e: E) -> AthenaError {
    AthenaError::Sdk(format!("athena {what}: {}", DisplayErrorContext(&e)))
}

impl AthenaRunner {
    pub fn new(client: Client, workgroup: &str, database: &str) -> Self {
        AthenaRunner {
            client,
            workgroup: workgroup.into(),
            database: database.into(),
            timeout: Duration::from_secs(600),
            first_poll: Duration::from_millis(250),
            max_poll: Duration::from_secs(5),
        }
    }

    /// Starts a query and waits for it; returns its id.
    pub async fn execute(&self, sql: &str) -> Result<String, AthenaError> {
        self.run(sql).await.map(|d| d.query_id)
    }

    /// Starts a query without waiting; its id (a state machine polls it).
    pub async fn start(&self, sql: &str) -> Result<String, AthenaError> {
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
        started
            .query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| AthenaError::Sdk("StartQueryExecution returned no id".into()))
    }

    /// Starts a query and waits for it; returns its id and the bytes it scanned.
    pub async fn run(&self, sql: &str) -> Result<Done, AthenaError> {
        let id = self.start(sql).await?;
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
                    Ok(scanned.unwrap_or(0).max(0) as u64)
                }
                Some(QueryExecutionState::Failed) | Some(QueryExecutionState::Cancelled) => {
                    let why = status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given");
                    Err(Poll::Done(AthenaError::Query(format!(
                        "athena query {id}: {why}"
                    ))))
                }
                _ => Err(Poll::Running),
            }
        };
        let backoff = crate::retry::readiness(self.timeout)
            .with_min_delay(self.first_poll)
            .with_max_delay(self.max_poll);
        match poll
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|p| matches!(p, Poll::Running))
            .await
        {
            Ok(bytes_scanned) => Ok(Done {
                query_id: id,
                bytes_scanned,
            }),
            Err(Poll::Done(e)) => Err(e),
            Err(Poll::Running) => {
                let _ = self
                    .client
                    .stop_query_execution()
                    .query_execution_id(&id)
                    .send()
                    .await;
                Err(AthenaError::Query(format!(
                    "athena query {id} still running after {:?}; stopped",
                    self.timeout
                )))
            }
        }
    }

    /// All result rows of a finished query, page by page.
    pub async fn results(&self, id: &str) -> Result<TextRows, AthenaError> {
        let mut out = TextRows::default();
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
