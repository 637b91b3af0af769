//! Event-source mapping emulation: what Lambda's pollers do between a stream
//! or queue and a function. Shared pieces: checkpoints, metrics, records.

pub mod checkpoints;
pub mod events;
pub mod kinesis;
pub mod reader;
pub mod shard;
pub mod sink;
pub mod sqs;
pub mod windows;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use checkpoints::Checkpoints;

/// Where a mapping starts reading a shard that has no checkpoint yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartingPosition {
    #[default]
    TrimHorizon,
    Latest,
    /// Unix epoch milliseconds.
    AtTimestamp(i64),
}

/// One Kinesis record as read by GetRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    /// ApproximateArrivalTimestamp, epoch milliseconds.
    pub arrival_ms: i64,
    pub data: Vec<u8>,
}

/// Sequence numbers are decimal strings of up to 129 digits (56 on AWS, ~65
/// from LocalStack, small integers from moto): never parsed into an integer,
/// always compared with this.
pub use playback_domain::position::cmp_seq;

/// Counters of one consumer (one event-source mapping), updated by its tasks.
#[derive(Debug, Default)]
pub struct ConsumerMetrics {
    pub batches: AtomicU64,
    pub records: AtomicU64,
    /// Invocations that failed in whole or in part and were retried.
    pub retries: AtomicU64,
    /// Batches given up on (sent to the on-failure destination, or left to SQS).
    pub failures: AtomicU64,
    pub windows_flushed: AtomicU64,
    pub alerts: AtomicU64,
    pub dead_letters: AtomicU64,
    pub last_invoke_latency_ms: AtomicU64,
    iterator_age_ms: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub batches: u64,
    pub records: u64,
    pub retries: u64,
    pub failures: u64,
    pub windows_flushed: u64,
    pub alerts: u64,
    pub dead_letters: u64,
    pub last_invoke_latency_ms: u64,
    /// The oldest shard's: milliseconds between the newest arrival processed and now.
    pub iterator_age_ms: u64,
}

impl ConsumerMetrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_iterator_age(&self, shard: &str, age_ms: u64) {
        let mut m = self
            .iterator_age_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.insert(shard.to_string(), age_ms);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let ages = self
            .iterator_age_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        MetricsSnapshot {
            batches: get(&self.batches),
            records: get(&self.records),
            retries: get(&self.retries),
            failures: get(&self.failures),
            windows_flushed: get(&self.windows_flushed),
            alerts: get(&self.alerts),
            dead_letters: get(&self.dead_letters),
            last_invoke_latency_ms: get(&self.last_invoke_latency_ms),
            iterator_age_ms: ages.values().copied().max().unwrap_or(0),
        }
    }
}

/// Handles to the tasks of one running mapping.
#[derive(Debug, Default)]
pub struct EsmTasks(pub Vec<tokio::task::JoinHandle<()>>);

impl EsmTasks {
    pub async fn join(self) {
        for t in self.0 {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "mapping task panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Checkpoints;

    #[test]
    fn checkpoints_advance_by_number_for_56_and_129_digit_sequence_numbers() {
        let c = Checkpoints::default();
        let a = "49590338271490256608559692538361571095921575989136588898";
        let b = "49590338271490256608559692538361571095921575989136588899";
        c.advance("qoe", "s0", a);
        c.advance("qoe", "s0", b);
        c.advance("qoe", "s0", a);
        assert_eq!(c.get("qoe", "s0").as_deref(), Some(b), "never moves back");
        let long_a = format!("{}8", "3".repeat(128));
        let long_b = format!("{}9", "3".repeat(128));
        c.advance("qoe", "s1", &long_b);
        c.advance("qoe", "s1", &long_a);
        assert_eq!(c.get("qoe", "s1").as_deref(), Some(long_b.as_str()));
        c.advance("qoe", "s2", "9");
        c.advance("qoe", "s2", "10");
        assert_eq!(c.get("qoe", "s2").as_deref(), Some("10"));
    }
}
