//! The library's error type: every message is one line, so the CLI can print it as is.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LoadgenError {
    /// A colon-separated flag (`--incident`, `--bad-firmware`, `--spike`) that does not parse.
    #[error("invalid {flag} {value:?}: {msg}")]
    BadSpec {
        flag: &'static str,
        value: String,
        msg: String,
    },
    /// A scenario that parses but makes no sense (rate <= 0, unknown region, ...).
    #[error("invalid scenario: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A Kinesis call failed for good (non-retryable, or retries exhausted).
    #[error("kinesis: {0}")]
    Kinesis(String),
    /// An SQS call failed for good.
    #[error("sqs: {0}")]
    Sqs(String),
    /// The collector refused requests for good, or could not be reached.
    #[error("collector: {0}")]
    Collector(String),
}

impl LoadgenError {
    pub(crate) fn spec(flag: &'static str, value: &str, msg: impl Into<String>) -> Self {
        LoadgenError::BadSpec {
            flag,
            value: value.to_string(),
            msg: msg.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LoadgenError::Io {
            path: path.into(),
            source,
        }
    }
}
