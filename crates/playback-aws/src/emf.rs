//! CloudWatch Embedded Metric Format: one JSON line on stdout per metric set;
//! CloudWatch Logs turns it into metrics without any PutMetricData call.

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "Playback";

/// Prints one EMF document with the given dimensions and (name, value, unit)
/// metrics. Only inside Lambda (or with `PLAYBACK_EMF=stdout`): when the local
/// pipeline runs the handlers in-process, nobody collects them.
pub fn emit(dimensions: &[(&str, &str)], metrics: &[(&str, f64, &str)]) {
    if enabled() {
        let now = chrono::Utc::now().timestamp_millis();
        println!("{}", document(now, dimensions, metrics));
    }
}

fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || std::env::var("PLAYBACK_EMF").is_ok_and(|v| v == "stdout")
    })
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
