//! Retriable or not, from the SDK error itself: its variant, the service's
//! error code (`ProvideErrorMetadata`) and the HTTP status, never its text.
//!
//! The SDK has already retried throttles and transient failures by its own
//! standard policy before an error reaches us; this decides what the
//! handlers do with what is left: back off and retry (batch item failures)
//! or fail the invocation loudly.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use playback_domain::ports::{PortError, Retry};

/// Codes that are retriable although sent with a 4xx status: throughput and
/// request-rate limits (DynamoDB, Kinesis, SQS, SNS, KMS behind them; SNS
/// sends its codes without the `Exception` suffix),
/// transaction conflicts, request timeouts, expired session tokens (the
/// credentials provider fetches new ones). Includes aws-runtime's own
/// `THROTTLING_ERRORS` and `TRANSIENT_ERRORS`.
pub const RETRIABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "Throttled",
    "RequestThrottledException",
    "RequestThrottled",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "BandwidthLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "TransactionConflictException",
    "TransactionInProgressException",
    "KMSThrottlingException",
    "KMSThrottling",
    "KmsThrottled",
    "OverLimit",
    "RequestTimeout",
    "RequestTimeoutException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Whether the failed call can succeed if sent again.
///
/// - not sent because it could not be built: non-retriable;
/// - timeouts, I/O and other connection failures, unreadable responses:
///   retriable (the SDK's transient classes), except a connector's "user"
///   error (an invalid request);
/// - a service error: retriable if its code is in [`RETRIABLE_CODES`] or its
///   status is 5xx or 429; every other code is the caller's or the
///   deployment's fault (AccessDenied, UnrecognizedClient, ResourceNotFound,
///   ValidationException, KMS key disabled or not found, ...).
pub fn classify<E: ProvideErrorMetadata>(e: &SdkError<E, Response>) -> Retry {
    match e {
        SdkError::ConstructionFailure(_) => Retry::NonRetriable,
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Retry::Retriable,
        SdkError::DispatchFailure(d) if d.is_user() => Retry::NonRetriable,
        SdkError::DispatchFailure(_) => Retry::Retriable,
        SdkError::ServiceError(ctx) => service(ctx.err().code(), ctx.raw().status().as_u16()),
        // A variant added later: retried, as every error was before.
        _ => Retry::Retriable,
    }
}

/// The class of a service's answer: its error code, else its HTTP status.
pub fn service(code: Option<&str>, status: u16) -> Retry {
    if code.is_some_and(|c| RETRIABLE_CODES.contains(&c)) || status >= 500 || status == 429 {
        Retry::Retriable
    } else {
        Retry::NonRetriable
    }
}

/// The port error of a failed SDK call, classified, keeping the SDK error as
/// its source.
pub fn port_error<E>(operation: &'static str, e: SdkError<E, Response>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let class = classify(&e);
    let code = e.code().map(str::to_string);
    PortError::call(operation, class, code, e)
}

/// True when the service answered with this error code.
pub fn has_code<E: ProvideErrorMetadata>(e: &SdkError<E, Response>, code: &str) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some(code)
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
