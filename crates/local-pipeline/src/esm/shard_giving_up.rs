//! How a shard gives up on records: retries exhausted or records too old go
//! to the on-failure destination, then the shard moves on past them.

use super::{ShardState, StreamMapping};
use crate::esm::ConsumerMetrics;
use crate::on_failure::{self, Condition, LastResponse};

impl ShardState {
    /// Gives up on the first `n` buffered records: on-failure record, then move on.
    /// False if the destination could not be reached (the records stay).
    pub(super) async fn discard(
        &mut self,
        m: &StreamMapping,
        n: usize,
        condition: Condition,
        invoke_count: u32,
        last: LastResponse,
    ) -> bool {
        let records = self.front(n);
        if let (Some(dest), false) = (&m.on_failure, records.is_empty()) {
            let record = on_failure::kinesis_record(
                &m.function_arn,
                &m.stream_arn,
                condition,
                invoke_count,
                last,
                &records,
            );
            if let Err(e) = dest.send(record).await {
                tracing::error!(consumer = %m.consumer, error = %e, "on-failure destination unreachable; keeping the batch");
                self.back_off(m);
                return false;
            }
        }
        tracing::warn!(consumer = %m.consumer, shard = %self.shard_id, records = n, condition = condition.as_str(), "batch discarded");
        ConsumerMetrics::add(&m.metrics.failures, 1);
        self.commit(m, n, false);
        self.split.pop();
        self.retry_head = None;
        self.attempts = 0;
        self.backoff_until = None;
        true
    }

    /// Records older than the maximum record age are discarded unprocessed.
    pub(super) async fn expire_old(&mut self, m: &StreamMapping) -> bool {
        let Some(max_age) = m.max_record_age else {
            return false;
        };
        let cutoff = crate::now_ms() - max_age.as_millis() as i64;
        let n = self
            .pending
            .iter()
            .take(m.batch_size)
            .take_while(|b| b.rec.arrival_ms < cutoff)
            .count();
        if n == 0 {
            return false;
        }
        let last = if self.attempts > 0 {
            LastResponse::FunctionError
        } else {
            LastResponse::NotInvoked
        };
        let count = self.attempts;
        self.discard(m, n, Condition::RecordAgeExceeded, count, last)
            .await
    }
}
