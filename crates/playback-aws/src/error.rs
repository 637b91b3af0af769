use thiserror::Error;

/// Errors of this crate that are not port failures (config, payload shapes).
#[derive(Debug, Error)]
pub enum AwsError {
    #[error("missing environment variable {0}")]
    MissingEnv(&'static str),
    #[error("environment variable {name}={value:?} is invalid: {why}")]
    BadEnv {
        name: &'static str,
        value: String,
        why: String,
    },
    #[error("window state is unreadable: {0}")]
    BadState(String),
}
