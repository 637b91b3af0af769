//! What a handler does with a non-retriable error: fail the whole invocation
//! loudly instead of re-driving its records until they age out. An error log
//! with the classification, and the `NonRetriableErrors` metric that the
//! alarm watches (namespace `Playback`, dimension `Function`).

use playback_domain::ports::{Chain, Retry};
use serde_json::Value;

use crate::emf;

pub const METRIC: &str = "NonRetriableErrors";
pub const DIMENSION: &str = "Function";

/// The Lambda function's name, or `fallback` (the consumer name) outside Lambda.
pub fn function_name(fallback: &str) -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

/// Logs `e` at error level with its class and emits one `NonRetriableErrors`.
pub fn report(
    metrics: &emf::Metrics,
    fallback: &str,
    class: Retry,
    e: &(dyn std::error::Error + 'static),
) {
    let function = function_name(fallback);
    tracing::error!(
        function = %function,
        class = %class,
        error = %Chain(e),
        "non-retriable error: failing the whole invocation"
    );
    metrics.emit(&[(DIMENSION, &function)], &[(METRIC, 1.0, "Count")]);
}

/// The EMF document [`report`] prints (for tests and the alarm's contract).
pub fn document(ts_ms: i64, function: &str) -> Value {
    emf::document(ts_ms, &[(DIMENSION, function)], &[(METRIC, 1.0, "Count")])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_metric_the_alarm_watches() {
        let d = super::document(1, "playback-session-features");
        let cw = &d["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Playback");
        assert_eq!(cw["Dimensions"][0][0], "Function");
        assert_eq!(cw["Metrics"][0]["Name"], "NonRetriableErrors");
        assert_eq!(d["Function"], "playback-session-features");
        assert_eq!(d["NonRetriableErrors"], 1.0);
    }
}
