//! Runs the playback pipeline on a laptop against an AWS emulator (moto,
//! LocalStack): creates the resources of infra/pipeline.json, then emulates
//! Lambda's event-source mappings (Kinesis with tumbling windows, retries,
//! bisection and on-failure destinations; SQS with partial batch responses)
//! around the real handler libraries and their real AWS adapters; and the
//! lake's Firehose delivery stream ([`firehose`]).

pub mod chaos;
pub mod collector;
pub mod esm;
pub mod firehose;
pub mod function;
pub mod lake_landing;
pub mod on_failure;
pub mod redrive;
pub mod runner;
pub mod setup;
pub mod teardown;
pub mod topology;

pub use esm::{Checkpoints, ConsumerMetrics, MetricsSnapshot, StartingPosition, StreamRecord};
pub use firehose::{
    FirehoseConfig, FirehoseEmulator, FirehoseStats, LandedFile, OutputKind, PutReport, TransformFn,
};
pub use function::{Function, FunctionError};
pub use runner::{Pipeline, PipelineHandle, PipelineOptions};
pub use setup::{setup, Resources};
pub use teardown::teardown;
pub use topology::{LocalOverrides, Topology};

/// The library's one error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Topology(#[from] playback_topology::TopologyError),
    #[error("configuration: {0}")]
    Config(String),
    /// `message`: the service's code and message, or the transport's story;
    /// the SDK error itself is the source.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{0} did not become ready in time")]
    Timeout(String),
    #[error("bad payload: {0}")]
    Payload(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an SDK error with the operation that failed: the service's code and
/// message when it answered, else the transport's full story.
pub(crate) fn aws_err<E, R>(
    operation: &'static str,
) -> impl FnOnce(aws_sdk_sqs::error::SdkError<E, R>) -> Error
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| {
        let message = match e.as_service_error() {
            Some(se) if se.code().is_some() => format!(
                "{}: {}",
                se.code().unwrap_or_default(),
                se.message().unwrap_or_default()
            ),
            _ => aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        };
        Error::Aws {
            operation,
            message,
            source: Box::new(e),
        }
    }
}

/// The error code of an SDK error (e.g. "ResourceInUseException"), if the service sent one.
pub(crate) fn error_code<E, R>(e: &aws_sdk_sqs::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|se| se.code())
}

/// Milliseconds since the Unix epoch, by the wall clock.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
