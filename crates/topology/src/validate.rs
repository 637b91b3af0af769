//! What serde cannot say about pipeline.json: non-empty names, positive
//! sizes, the consumers the CDK app creates, S3 prefixes ending in '/'.
//! Each problem names its key path.

use crate::model::{ConsumerSpec, TableSpec, Topology, CONSUMERS, QOE_ALERTS};

/// The first problem found: (key path, what is wrong).
pub(crate) fn check(t: &Topology) -> Result<(), (String, String)> {
    let mut v = Checker::default();
    v.name("stream.name", &t.stream.name);
    if !["ON_DEMAND", "PROVISIONED"].contains(&t.stream.mode.as_str()) {
        v.fail(
            "stream.mode",
            format!("{:?}: expected ON_DEMAND or PROVISIONED", t.stream.mode),
        );
    }
    v.positive(
        "stream.provisioned_shards",
        t.stream.provisioned_shards.into(),
    );
    v.positive("stream.local_shards", t.stream.local_shards.into());
    v.positive("stream.retention_hours", t.stream.retention_hours.into());

    for name in t.consumers.keys() {
        if !CONSUMERS.contains(&name.as_str()) {
            v.fail(
                &format!("consumers.{name}"),
                format!("unknown consumer (expected {CONSUMERS:?})"),
            );
        }
    }
    for name in CONSUMERS {
        match t.consumers.get(name) {
            Some(c) => consumer(&mut v, name, c),
            None => v.fail(&format!("consumers.{name}"), "missing consumer".into()),
        }
    }
    if t.consumers
        .get(QOE_ALERTS)
        .is_some_and(|c| c.tumbling_window_s.is_none())
    {
        v.fail(
            &format!("consumers.{QOE_ALERTS}.tumbling_window_s"),
            "missing field".into(),
        );
    }

    let q = &t.sre_buffer;
    v.name("sre_buffer.queue", &q.queue);
    v.name("sre_buffer.dlq", &q.dlq);
    for (k, n) in [
        ("max_receive_count", q.max_receive_count.into()),
        ("visibility_timeout_s", q.visibility_timeout_s.into()),
        ("batch_size", q.batch_size as u64),
        ("max_concurrency", q.max_concurrency.into()),
        ("memory_mb", q.memory_mb.into()),
        ("timeout_s", q.timeout_s),
    ] {
        v.positive(&format!("sre_buffer.{k}"), n);
    }
    v.name("poison_dlq", &t.poison_dlq);

    let c = &t.canonical;
    for (k, n) in [
        ("merge_every_minutes", c.merge_every_minutes),
        ("retention_days", c.retention_days),
        ("lag_alarm_minutes", c.lag_alarm_minutes),
    ] {
        v.positive(&format!("canonical.{k}"), n.into());
    }
    for (k, h) in [
        ("optimize_hour_utc", c.optimize_hour_utc),
        ("vacuum_hour_utc", c.vacuum_hour_utc),
    ] {
        if h > 23 {
            v.fail(
                &format!("canonical.{k}"),
                format!("{h} is not an hour 0..=23"),
            );
        }
    }
    if c.lag_alarm_minutes < 2 * c.merge_every_minutes {
        v.fail(
            "canonical.lag_alarm_minutes",
            format!(
                "must be at least twice merge_every_minutes ({})",
                c.merge_every_minutes
            ),
        );
    }

    let tb = &t.tables;
    for (k, spec) in [
        ("features", &tb.features),
        ("windows", &tb.windows),
        ("alerts", &tb.alerts),
        ("sre", &tb.sre),
    ] {
        table(&mut v, k, spec);
    }

    v.name("alerts.topic", &t.alerts.topic);
    if !(0.0..=1.0).contains(&t.alerts.baseline_ratio) {
        v.fail("alerts.baseline_ratio", "must be within 0..=1".into());
    }
    if t.alerts.margin.is_nan() || t.alerts.margin < 0.0 {
        v.fail("alerts.margin", "must be at least 0".into());
    }
    v.positive("sre.baseline_minutes", t.sre.baseline_minutes.into());
    v.positive("sre.quiet_minutes", t.sre.quiet_minutes.into());
    if t.features.ttl_days <= 0 {
        v.fail("features.ttl_days", "must be positive".into());
    }

    let l = &t.lake;
    for (k, s) in [
        ("bucket", &l.bucket),
        ("firehose", &l.firehose),
        ("glue_database", &l.glue_database),
        ("glue_table", &l.glue_table),
        ("athena_workgroup", &l.athena_workgroup),
    ] {
        v.name(&format!("lake.{k}"), s);
    }
    for (k, p) in [
        ("prefix", &l.prefix),
        ("error_prefix", &l.error_prefix),
        ("reports_prefix", &l.reports_prefix),
        ("catalogue_prefix", &l.catalogue_prefix),
        ("long_horizon_prefix", &l.long_horizon_prefix),
        ("training_prefix", &l.training_prefix),
    ] {
        if p.is_empty() || !p.ends_with('/') {
            v.fail(
                &format!("lake.{k}"),
                format!("{p:?}: an S3 prefix must end with '/'"),
            );
        }
    }
    v.positive("lake.buffer_mb", l.buffer_mb);
    v.positive("lake.buffer_s", l.buffer_s);
    v.positive(
        "lake.athena_bytes_scanned_cutoff",
        l.athena_bytes_scanned_cutoff,
    );
    v.done()
}

fn consumer(v: &mut Checker, name: &str, c: &ConsumerSpec) {
    let k = |f: &str| format!("consumers.{name}.{f}");
    v.name(&k("efo_consumer"), &c.efo_consumer);
    v.positive(&k("batch_size"), c.batch_size as u64);
    v.positive(
        &k("parallelization_factor"),
        c.parallelization_factor.into(),
    );
    v.positive(&k("memory_mb"), c.memory_mb.into());
    v.positive(&k("timeout_s"), c.timeout_s);
    if let Some(w) = c.tumbling_window_s {
        v.positive(&k("tumbling_window_s"), w);
    }
    for (f, n) in [
        ("max_retry_attempts", c.max_retry_attempts),
        ("max_record_age_s", c.max_record_age_s),
    ] {
        if n < -1 {
            v.fail(&k(f), "must be -1 (infinite) or at least 0".into());
        }
    }
}

fn table(v: &mut Checker, name: &str, t: &TableSpec) {
    let k = |f: &str| format!("tables.{name}.{f}");
    v.name(&k("name"), &t.name);
    v.name(&k("pk"), &t.pk);
    for (f, ty) in [("pk_type", &t.pk_type), ("sk_type", &t.sk_type)] {
        if ty.as_deref().is_some_and(|ty| ty != "S" && ty != "N") {
            v.fail(&k(f), format!("{ty:?}: expected \"S\" or \"N\""));
        }
    }
    if t.sk.is_none() && t.sk_type.is_some() {
        v.fail(&k("sk_type"), "given without sk".into());
    }
    if let Some(sk) = &t.sk {
        v.name(&k("sk"), sk);
    }
}

/// Keeps the first failure: one clear message beats a list.
#[derive(Default)]
struct Checker {
    first: Option<(String, String)>,
}

impl Checker {
    fn fail(&mut self, key: &str, why: String) {
        self.first.get_or_insert_with(|| (key.to_string(), why));
    }
    fn name(&mut self, key: &str, s: &str) {
        if s.trim().is_empty() {
            self.fail(key, "must not be empty".into());
        }
    }
    fn positive(&mut self, key: &str, n: u64) {
        if n == 0 {
            self.fail(key, "must be positive".into());
        }
    }
    fn done(self) -> Result<(), (String, String)> {
        self.first.map_or(Ok(()), Err)
    }
}
