//! Local engine: DuckDB over the lake's Parquet on the emulator's S3, through
//! scripts/lake_query.py (the same script `make query` runs) as a subprocess.
//! The subprocess keeps the DuckDB C++ build out of our Rust compile (the
//! bundled duckdb crate takes far too long on 2 cores) and makes the local
//! path run exactly what a developer runs by hand.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::engine::{QueryEngine, Rows};
use crate::RoyaltyError;

#[derive(Debug, Clone)]
pub struct DuckDbEngine {
    /// The venv's python (has duckdb, httpfs extension, sqlglot).
    pub python: PathBuf,
    /// scripts/lake_query.py
    pub script: PathBuf,
    pub bucket: String,
    /// Events prefix (`events/`).
    pub prefix: String,
    /// Ledger prefix (`royalty/ledger/`).
    pub ledger_prefix: String,
    /// S3 endpoint; None: the script's default (AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
}

impl DuckDbEngine {
    /// The engine of a checkout at `root` (its .venv and scripts/).
    pub fn in_workspace(root: &Path, bucket: &str, prefix: &str, ledger_prefix: &str) -> Self {
        let venv = std::env::var_os("VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| ".venv".into());
        let venv = if venv.is_absolute() {
            venv
        } else {
            root.join(venv)
        };
        DuckDbEngine {
            python: venv.join("bin").join("python"),
            script: root.join("scripts").join("lake_query.py"),
            bucket: bucket.into(),
            prefix: prefix.into(),
            ledger_prefix: ledger_prefix.into(),
            endpoint: None,
        }
    }

    async fn run(&self, sql: &str, extra: &[&str]) -> Result<Rows, RoyaltyError> {
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script)
            .args(["--json", "--bucket", &self.bucket, "--prefix", &self.prefix])
            .args(["--ledger-prefix", &self.ledger_prefix])
            .args(extra);
        if let Some(e) = &self.endpoint {
            cmd.args(["--endpoint", e]);
        }
        cmd.arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            RoyaltyError::Engine(format!("{}: {e} (run `make venv`)", self.python.display()))
        })?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(sql.as_bytes())
            .await
            .map_err(|e| RoyaltyError::Engine(format!("writing SQL to lake_query.py: {e}")))?;
        drop(stdin);
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| RoyaltyError::Engine(format!("lake_query.py: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(RoyaltyError::Query(err.trim().to_string()));
        }
        parse_json_rows(&out.stdout)
    }
}

/// Parses lake_query.py's `--json` output: {"columns": [...], "rows": [[...]]}.
pub fn parse_json_rows(stdout: &[u8]) -> Result<Rows, RoyaltyError> {
    #[derive(serde::Deserialize)]
    struct Out {
        columns: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
    }
    let out: Out = serde_json::from_slice(stdout)
        .map_err(|e| RoyaltyError::Engine(format!("lake_query.py printed no result: {e}")))?;
    Ok(Rows {
        columns: out.columns,
        rows: out.rows,
    })
}

impl QueryEngine for DuckDbEngine {
    async fn query(&self, sql: &str) -> Result<Rows, RoyaltyError> {
        self.run(sql, &[]).await
    }

    async fn write_parquet(
        &self,
        sql: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<(), RoyaltyError> {
        // One file with a fixed name: a re-run overwrites it byte for byte.
        let url = format!("s3://{bucket}/{prefix}data.parquet");
        self.run(sql, &["--copy-to", url.as_str()])
            .await
            .map(|_| ())
    }

    async fn ensure_ledger_table(&self, _ddl: &str) -> Result<(), RoyaltyError> {
        Ok(()) // lake_query.py exposes the ledger prefix as playback.royalty_ledger
    }

    fn name(&self) -> &'static str {
        "duckdb"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_script_output() {
        let rows = parse_json_rows(br#"{"columns":["a","b"],"rows":[["1",null]]}"#).unwrap();
        assert_eq!(rows.columns, vec!["a", "b"]);
        assert_eq!(rows.rows, vec![vec![Some("1".to_string()), None]]);
        assert!(parse_json_rows(b"").is_err());
    }
}
