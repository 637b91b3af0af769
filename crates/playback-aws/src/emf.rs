//! CloudWatch Embedded Metric Format: one JSON line on stdout per metric set;
//! CloudWatch Logs turns it into metrics without any PutMetricData call.
//!
//! Handlers hold a [`Metrics`] sink, given to them when they are built, not
//! a global switch: Lambda's is stdout, the local pipeline's is off (nobody
//! collects them), the bench's builds and discards (Lambda pays for building
//! and writing them), a test's keeps them.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Playback";

/// Where a handler's EMF documents go.
#[derive(Debug, Clone, Default)]
pub enum Metrics {
    /// Not built at all.
    #[default]
    Off,
    /// One JSON line each on stdout: what CloudWatch Logs reads in Lambda.
    Stdout,
    /// Built and serialised, then dropped: Lambda's cost without the output.
    Discard,
    /// Kept, for tests.
    Memory(Arc<Mutex<Vec<Value>>>),
}

/// Same sink: the same variant (and, for memory, the same buffer), so configs
/// holding one compare.
impl PartialEq for Metrics {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Metrics::Memory(a), Metrics::Memory(b)) => Arc::ptr_eq(a, b),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for Metrics {}

impl Metrics {
    /// Stdout inside Lambda (or with `PLAYBACK_EMF=stdout`), off elsewhere.
    pub fn from_env() -> Self {
        let lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
        if lambda || std::env::var("PLAYBACK_EMF").is_ok_and(|v| v == "stdout") {
            Metrics::Stdout
        } else {
            Metrics::Off
        }
    }

    pub fn memory() -> Self {
        Metrics::Memory(Arc::default())
    }

    /// The documents a [`Metrics::Memory`] kept (empty for the others).
    pub fn documents(&self) -> Vec<Value> {
        match self {
            Metrics::Memory(m) => m.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            _ => Vec::new(),
        }
    }

    /// One EMF document with the given dimensions and (name, value, unit) metrics.
    pub fn emit(&self, dimensions: &[(&str, &str)], metrics: &[(&str, f64, &str)]) {
        if matches!(self, Metrics::Off) {
            return;
        }
        let doc = document(chrono::Utc::now().timestamp_millis(), dimensions, metrics);
        match self {
            Metrics::Off => {}
            Metrics::Stdout => println!("{doc}"),
            Metrics::Discard => {
                let _ = writeln!(std::io::sink(), "{doc}");
            }
            Metrics::Memory(m) => m.lock().unwrap_or_else(PoisonError::into_inner).push(doc),
        }
    }
}

pub fn document(ts_ms: i64, dimensions: &[(&str, &str)], metrics: &[(&str, f64, &str)]) -> Value {
    let mut root = Map::new();
    let dim_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(n, _, u)| json!({"Name": n, "Unit": u}))
        .collect();
    root.insert(
        "_aws".into(),
        json!({"Timestamp": ts_ms, "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [dim_names], "Metrics": defs}
        ]}),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), json!(v));
    }
    for (n, v, _) in metrics {
        root.insert((*n).into(), json!(v));
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_memory_sink_keeps_what_was_emitted_and_off_builds_nothing() {
        let m = super::Metrics::memory();
        m.emit(&[("Function", "f")], &[("X", 1.0, "Count")]);
        assert_eq!(m.documents()[0]["X"], 1.0);
        let off = super::Metrics::Off;
        off.emit(&[("Function", "f")], &[("X", 1.0, "Count")]);
        assert!(off.documents().is_empty());
    }

    #[test]
    fn document_declares_every_metric_and_dimension() {
        let d = super::document(1, &[("Region", "eu")], &[("AlertsRaised", 2.0, "Count")]);
        assert_eq!(d["Region"], "eu");
        assert_eq!(d["AlertsRaised"], 2.0);
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Region"
        );
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "AlertsRaised"
        );
    }
}
