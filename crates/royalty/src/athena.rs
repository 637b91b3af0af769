//! Athena engine: the workspace's Athena runner (`playback_aws::athena`:
//! StartQueryExecution, polling, GetQueryResults pagination) as the close's
//! [`QueryEngine`]; ledger partitions written with UNLOAD.

use playback_aws::athena::{AthenaError, TextRows};

use crate::engine::{QueryEngine, Rows};
use crate::RoyaltyError;

/// The close's Athena engine is the shared runner (fields: workgroup,
/// database, timeout, first_poll, max_poll).
pub type AthenaEngine = playback_aws::athena::AthenaRunner;

impl From<AthenaError> for RoyaltyError {
    fn from(e: AthenaError) -> Self {
        match e {
            AthenaError::Sdk(m) => RoyaltyError::Engine(m),
            AthenaError::Query(m) => RoyaltyError::Query(m),
        }
    }
}

fn rows(t: TextRows) -> Rows {
    Rows {
        columns: t.columns,
        rows: t.rows,
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
        Ok(rows(self.results(&id).await?))
    }

    async fn write_parquet(
        &self,
        sql: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<(), RoyaltyError> {
        self.execute(&unload_sql(sql, bucket, prefix)).await?;
        Ok(())
    }

    async fn ensure_ledger_table(&self, ddl: &str) -> Result<(), RoyaltyError> {
        self.execute(ddl).await?;
        Ok(())
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
