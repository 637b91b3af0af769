use serde_json::Value;

use super::*;

fn err(text: &str) -> TopologyError {
    Topology::from_json(text, EMBEDDED_NAME).expect_err("should not load")
}

#[test]
fn the_repository_file_loads_and_is_the_embedded_one() {
    let t = Topology::embedded().unwrap();
    assert_eq!(Topology::load_default().unwrap(), t);
    assert_eq!(Topology::deployed(), &t);
    assert!(t.consumer(QOE_ALERTS).unwrap().tumbling_window_s.is_some());
    assert_eq!(
        t.alerts.rule().threshold(),
        t.alerts.baseline_ratio + t.alerts.margin
    );
}

#[test]
fn a_renamed_key_is_named() {
    let text = EMBEDDED_JSON.replacen("\"bucket\"", "\"bukcet\"", 1);
    let e = err(&text);
    assert_eq!(e.key(), Some("lake.bukcet"));
    let msg = e.to_string();
    assert!(
        msg.starts_with("pipeline.json: lake.bukcet: unknown field"),
        "{msg}"
    );
    assert!(msg.contains("`bucket`"), "names what was expected: {msg}");
}

#[test]
fn a_missing_key_is_named() {
    let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    v["lake"].as_object_mut().unwrap().remove("bucket");
    let e = err(&v.to_string());
    assert_eq!(e.to_string(), "pipeline.json: lake.bucket: missing field");
    let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    v.as_object_mut().unwrap().remove("sre");
    assert_eq!(
        err(&v.to_string()).to_string(),
        "pipeline.json: sre: missing field"
    );
}

/// Every key of the file, renamed in turn, fails naming the renamed key.
#[test]
fn renaming_any_key_fails_naming_it() {
    let v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    let mut paths = Vec::new();
    key_paths(&v, "", &mut paths);
    assert!(paths.len() > 80, "{paths:?}");
    for path in paths {
        let mut doc = v.clone();
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", &path));
        let obj = if parent.is_empty() {
            &mut doc
        } else {
            doc.pointer_mut(&format!("/{}", parent.replace('.', "/")))
                .unwrap()
        };
        let obj = obj.as_object_mut().unwrap();
        let value = obj.remove(key).unwrap();
        obj.insert(format!("{key}_renamed"), value);
        let e = err(&doc.to_string());
        let expected = format!("{path}_renamed");
        assert_eq!(e.key(), Some(expected.as_str()), "{path}: {e}");
    }
}

fn key_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(m) = v {
        for (k, child) in m {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            key_paths(child, &p, out);
            out.push(p);
        }
    }
}

#[test]
fn wrong_values_are_named() {
    let cases: [(&str, &str, Value, &str); 10] = [
        (
            "lake",
            "bucket",
            "".into(),
            "lake.bucket: must not be empty",
        ),
        (
            "lake",
            "prefix",
            "events".into(),
            "lake.prefix: \"events\": an S3 prefix must end with '/'",
        ),
        (
            "sre_buffer",
            "batch_size",
            0.into(),
            "sre_buffer.batch_size: must be positive",
        ),
        (
            "canonical",
            "retention_days",
            0.into(),
            "canonical.retention_days: must be positive",
        ),
        (
            "canonical",
            "vacuum_hour_utc",
            24.into(),
            "canonical.vacuum_hour_utc: 24 is not an hour 0..=23",
        ),
        (
            "canonical",
            "lag_alarm_minutes",
            20.into(),
            "canonical.lag_alarm_minutes: must be at least twice merge_every_minutes (15)",
        ),
        (
            "stream",
            "mode",
            "FAST".into(),
            "stream.mode: \"FAST\": expected ON_DEMAND or PROVISIONED",
        ),
        (
            "alerts",
            "baseline_ratio",
            2.0.into(),
            "alerts.baseline_ratio: must be within 0..=1",
        ),
        (
            "features",
            "ttl_days",
            0.into(),
            "features.ttl_days: must be positive",
        ),
        (
            "stream",
            "retention_hours",
            "168".into(),
            "stream.retention_hours: invalid type",
        ),
    ];
    for (section, key, value, expected) in cases {
        let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
        v[section][key] = value;
        let msg = err(&v.to_string()).to_string();
        assert!(
            msg.starts_with(&format!("pipeline.json: {expected}")),
            "{msg}"
        );
    }
}

#[test]
fn consumers_are_the_ones_the_cdk_app_creates() {
    let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    v["consumers"][QOE_ALERTS]["batch_size"] = 0.into();
    assert_eq!(
        err(&v.to_string()).key(),
        Some("consumers.qoe-alerts.batch_size")
    );
    let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    v["consumers"][QOE_ALERTS]
        .as_object_mut()
        .unwrap()
        .remove("tumbling_window_s");
    assert_eq!(
        err(&v.to_string()).key(),
        Some("consumers.qoe-alerts.tumbling_window_s")
    );
    let mut v: Value = serde_json::from_str(EMBEDDED_JSON).unwrap();
    v["consumers"]
        .as_object_mut()
        .unwrap()
        .remove(SESSION_FEATURES);
    assert_eq!(
        err(&v.to_string()).key(),
        Some("consumers.session-features")
    );
}

#[test]
fn bad_json_says_where() {
    let msg = err("{\"stream\": ").to_string();
    assert!(msg.starts_with("pipeline.json: stream: EOF"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn prefixes_every_name_and_overrides_for_local_runs() {
    let t = Topology::embedded().unwrap();
    let p = t.prefixed("t1-");
    assert_eq!(p.stream.name, format!("t1-{}", t.stream.name));
    assert!(p.tables.sre.name.starts_with("t1-"));
    assert!(p.lake.bucket.starts_with("t1-"));
    assert!(p.poison_dlq.starts_with("t1-"));
    let q = p.with_overrides(&LocalOverrides::quick());
    assert_eq!(q.consumer(QOE_ALERTS).unwrap().tumbling_window_s, Some(5));
    assert_eq!(
        q.consumer(SESSION_FEATURES).unwrap().tumbling_window_s,
        None
    );
    assert_eq!(q.sre_buffer.visibility_timeout_s, 5);
    // Still a valid topology: what the local runner sets up passes the same checks.
    assert!(validate::check(&q).is_ok());
}
