//! The query-engine seam: the close runs the same SQL text on Athena (AWS)
//! or on DuckDB over the emulator's lake (local, tests).

use std::future::Future;

use crate::RoyaltyError;

/// A query result with every value as text (NULL as None), the shape Athena's
/// GetQueryResults returns, so both engines hand the close the same thing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    /// Index of a column by name.
    pub fn column(&self, name: &str) -> Result<usize, RoyaltyError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| RoyaltyError::Report(format!("result has no column {name}")))
    }
}

pub trait QueryEngine {
    /// Runs one SELECT (Athena/Trino SQL) and returns all its rows.
    fn query(&self, sql: &str) -> impl Future<Output = Result<Rows, RoyaltyError>> + Send;

    /// Writes the result of one SELECT as Parquet under `s3://bucket/prefix`
    /// (a prefix ending in '/', emptied by the caller beforehand).
    fn write_parquet(
        &self,
        sql: &str,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<(), RoyaltyError>> + Send;

    /// Makes sure the ledger table exists (Athena runs the DDL; DuckDB has a view).
    fn ensure_ledger_table(
        &self,
        ddl: &str,
    ) -> impl Future<Output = Result<(), RoyaltyError>> + Send;

    /// For logs: "athena" or "duckdb".
    fn name(&self) -> &'static str;
}
