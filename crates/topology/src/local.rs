//! Variants of a topology for local runs: unique names so concurrent runs
//! never share a resource, and windows of seconds so a run is quick to watch.

use crate::Topology;

/// Settings that make a local run quick to observe; `None` keeps pipeline.json's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalOverrides {
    pub tumbling_window_s: Option<u64>,
    pub batching_window_s: Option<u64>,
    pub visibility_timeout_s: Option<u32>,
    pub max_receive_count: Option<u32>,
    pub max_retry_attempts: Option<i64>,
    pub firehose_buffer_s: Option<u64>,
}

impl LocalOverrides {
    /// What `playback-local run` and the tests use: windows and buffers of seconds.
    pub fn quick() -> Self {
        LocalOverrides {
            tumbling_window_s: Some(5),
            batching_window_s: Some(1),
            visibility_timeout_s: Some(5),
            max_receive_count: None,
            max_retry_attempts: Some(3),
            firehose_buffer_s: Some(5),
        }
    }
}

impl Topology {
    /// The same topology with every resource name prefixed, so concurrent runs
    /// and tests never share a stream, table, queue or bucket.
    pub fn prefixed(&self, prefix: &str) -> Topology {
        let p = |name: &str| format!("{prefix}{name}");
        let mut t = self.clone();
        t.stream.name = p(&t.stream.name);
        for c in t.consumers.values_mut() {
            c.efo_consumer = p(&c.efo_consumer);
        }
        t.sre_buffer.queue = p(&t.sre_buffer.queue);
        t.sre_buffer.dlq = p(&t.sre_buffer.dlq);
        t.poison_dlq = p(&t.poison_dlq);
        for table in [
            &mut t.tables.features,
            &mut t.tables.windows,
            &mut t.tables.alerts,
            &mut t.tables.sre,
        ] {
            table.name = p(&table.name);
        }
        t.alerts.topic = p(&t.alerts.topic);
        // Bucket names: lowercase, at most 63 characters.
        t.lake.bucket = p(&t.lake.bucket).to_ascii_lowercase();
        t.lake.bucket.truncate(63);
        t.lake.firehose = p(&t.lake.firehose);
        t
    }

    pub fn with_overrides(&self, o: &LocalOverrides) -> Topology {
        let mut t = self.clone();
        for c in t.consumers.values_mut() {
            if c.tumbling_window_s.is_some() {
                c.tumbling_window_s = o.tumbling_window_s.or(c.tumbling_window_s);
            }
            c.batching_window_s = o.batching_window_s.unwrap_or(c.batching_window_s);
            c.max_retry_attempts = o.max_retry_attempts.unwrap_or(c.max_retry_attempts);
        }
        let q = &mut t.sre_buffer;
        q.visibility_timeout_s = o.visibility_timeout_s.unwrap_or(q.visibility_timeout_s);
        q.max_receive_count = o.max_receive_count.unwrap_or(q.max_receive_count);
        q.batching_window_s = o.batching_window_s.unwrap_or(q.batching_window_s);
        t.lake.buffer_s = o.firehose_buffer_s.unwrap_or(t.lake.buffer_s);
        t
    }
}
