//! One shard of a Kinesis mapping, as Lambda drives it: batches of at most
//! `batch_size` gathered for up to the batching window, checkpoints after
//! success, resume from the first reported failure, bisection on function
//! errors, bounded retries, then the on-failure destination and onwards.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::events::{self, KinesisSource, StreamAnswer, WindowFields};
use super::windows::{self, OpenWindow, WindowView};
use super::{cmp_seq, Checkpoints, ConsumerMetrics, StreamRecord};
use crate::function::Function;
use crate::on_failure::{Condition, Destination, LastResponse};

/// Everything of a mapping that does not change while it runs.
pub struct StreamMapping {
    pub consumer: String,
    pub source: KinesisSource,
    pub stream_arn: String,
    pub function_arn: String,
    pub function: Arc<dyn Function>,
    pub on_failure: Option<Arc<dyn Destination>>,
    pub checkpoints: Checkpoints,
    pub metrics: Arc<ConsumerMetrics>,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub tumbling_window: Option<Duration>,
    /// None: retry until the records expire (Lambda's -1).
    pub max_retry_attempts: Option<u32>,
    pub max_record_age: Option<Duration>,
    pub bisect_on_error: bool,
    /// First pause before a retry; doubles per attempt, at most 5 s.
    pub retry_backoff: Duration,
    /// Wait past a window's end for records still in flight before closing it.
    pub window_grace: Duration,
}

/// What the poller knows when it asks the shard to make progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tick {
    /// The last read returned nothing.
    pub caught_up: bool,
    /// Close the open window now (shutdown, or the shard is finished).
    pub closing: bool,
    /// Whether a new window may be opened (not while draining).
    pub may_open: bool,
}

struct Buffered {
    rec: StreamRecord,
    read_at: Instant,
}

struct Plan {
    count: usize,
    /// (isFinalInvokeForWindow, isWindowTerminatedEarly) for windowed mappings.
    window: Option<(bool, bool)>,
}

pub struct ShardState {
    shard_id: String,
    pending: VecDeque<Buffered>,
    /// Sizes of bisected sub-batches still to invoke, the next one last.
    split: Vec<usize>,
    /// Sequence number heading the batch being retried, and its failed invocations.
    retry_head: Option<String>,
    attempts: u32,
    backoff_until: Option<Instant>,
    window: Option<OpenWindow>,
}

impl ShardState {
    pub fn new(shard_id: &str) -> Self {
        ShardState {
            shard_id: shard_id.to_string(),
            pending: VecDeque::new(),
            split: Vec::new(),
            retry_head: None,
            attempts: 0,
            backoff_until: None,
            window: None,
        }
    }

    /// A shard resumed after its checkpoint, with the window saved with it.
    pub fn resume(shard_id: &str, window: Option<OpenWindow>) -> Self {
        ShardState {
            window,
            ..ShardState::new(shard_id)
        }
    }

    pub fn push(&mut self, records: Vec<StreamRecord>) {
        let read_at = Instant::now();
        self.pending
            .extend(records.into_iter().map(|rec| Buffered { rec, read_at }));
    }

    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    pub fn has_open_window(&self) -> bool {
        self.window.is_some()
    }

    /// Milliseconds between the oldest unprocessed arrival and now.
    pub fn iterator_age_ms(&self, now_ms: i64, millis_behind_latest: u64) -> u64 {
        self.pending
            .front()
            .map(|b| (now_ms - b.rec.arrival_ms).max(0) as u64)
            .unwrap_or(millis_behind_latest)
    }

    /// Makes at most one invocation (or one discard); true if it did something.
    pub async fn step(&mut self, m: &StreamMapping, tick: Tick) -> bool {
        if self.backoff_until.is_some_and(|t| Instant::now() < t) {
            return false;
        }
        if self.expire_old(m).await {
            return true;
        }
        let plan = match m.tumbling_window {
            None => self.plan_plain(m, tick),
            Some(width) => self.plan_window(m, width, tick),
        };
        match plan {
            Some(plan) => {
                self.invoke(m, plan).await;
                true
            }
            None => false,
        }
    }

    fn limit(&self, m: &StreamMapping) -> usize {
        self.split.last().copied().unwrap_or(m.batch_size).max(1)
    }

    fn batch_ready(&self, m: &StreamMapping) -> bool {
        self.pending
            .front()
            .is_some_and(|h| h.read_at.elapsed() >= m.batching_window)
    }

    fn plan_plain(&self, m: &StreamMapping, tick: Tick) -> Option<Plan> {
        if self.pending.is_empty() {
            return None;
        }
        let limit = self.limit(m);
        let ready = tick.closing
            || !self.split.is_empty()
            || self.pending.len() >= limit
            || self.batch_ready(m);
        ready.then(|| Plan {
            count: limit.min(self.pending.len()),
            window: None,
        })
    }

    fn plan_window(&mut self, m: &StreamMapping, width: Duration, tick: Tick) -> Option<Plan> {
        if self.window.is_none() {
            let head = self.pending.front().filter(|_| tick.may_open)?;
            let width_ms = (width.as_millis() as i64).max(1);
            self.window = Some(OpenWindow::containing(head.rec.arrival_ms, width_ms));
        }
        let w = self.window.as_ref()?;
        let in_window = self
            .pending
            .iter()
            .take_while(|b| b.rec.arrival_ms < w.end_ms)
            .count();
        let view = WindowView {
            in_window,
            buffered: self.pending.len(),
            limit: self.limit(m),
            retrying: !self.split.is_empty(),
            batch_ready: self.batch_ready(m),
            caught_up: tick.caught_up,
            now_ms: crate::now_ms(),
            grace_ms: m.window_grace.as_millis() as i64,
            closing: tick.closing,
        };
        windows::plan(w, view).map(|p| Plan {
            count: p.count,
            window: Some((p.is_final, p.terminated_early)),
        })
    }

    fn front(&self, n: usize) -> Vec<StreamRecord> {
        self.pending.iter().take(n).map(|b| b.rec.clone()).collect()
    }

    async fn invoke(&mut self, m: &StreamMapping, plan: Plan) {
        let batch = self.front(plan.count);
        let event = match (plan.window, &self.window) {
            (Some((is_final, terminated_early)), Some(w)) => {
                let fields = WindowFields {
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                    state: &w.state,
                    shard_id: &self.shard_id,
                    is_final,
                    terminated_early,
                };
                events::kinesis_window_event(&batch, &m.source, &fields)
            }
            _ => events::kinesis_event(&batch, &m.source),
        };
        let started = Instant::now();
        let result = m.function.invoke(event).await;
        let metrics = &m.metrics;
        ConsumerMetrics::add(&metrics.batches, 1);
        metrics.last_invoke_latency_ms.store(
            started.elapsed().as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let is_final = matches!(plan.window, Some((true, _)));
        let needs_state = matches!(plan.window, Some((false, _)));
        let (answer, last) = match &result {
            Ok(v) => (
                events::read_stream_answer(v, &batch, needs_state),
                LastResponse::Answered,
            ),
            Err(e) => (
                StreamAnswer::Invalid(e.to_string()),
                LastResponse::FunctionError,
            ),
        };
        match answer {
            StreamAnswer::Success { state } => {
                if is_final {
                    // The flush is written; its checkpoint is not yet.
                    crate::chaos::point("window-flush").await;
                }
                if plan.window.is_some() {
                    self.window_done(m, is_final, state);
                }
                self.commit(m, plan.count, true);
                self.split.pop();
                self.retry_head = None;
                self.attempts = 0;
            }
            StreamAnswer::Partial { index, state } => {
                if let (Some(w), Some(state), false) = (self.window.as_mut(), state, is_final) {
                    w.state = state;
                }
                self.commit(m, index, true);
                let why = format!("batch item failure at {}", batch[index].sequence_number);
                self.failed(m, plan.count - index, is_final, last, true, &why)
                    .await;
            }
            StreamAnswer::Invalid(why) if m.bisect_on_error && plan.count > 1 => {
                // Splitting does not use up the retry quota.
                tracing::warn!(consumer = %m.consumer, shard = %self.shard_id, size = plan.count, error = %why, "bisecting the batch");
                ConsumerMetrics::add(&metrics.retries, 1);
                self.split.pop();
                let first = plan.count.div_ceil(2);
                self.split.push(plan.count - first);
                self.split.push(first);
            }
            StreamAnswer::Invalid(why) => {
                self.failed(m, plan.count, is_final, last, false, &why)
                    .await;
            }
        }
    }

    fn window_done(
        &mut self,
        m: &StreamMapping,
        is_final: bool,
        state: Option<Map<String, Value>>,
    ) {
        if is_final {
            self.window = None;
            ConsumerMetrics::add(&m.metrics.windows_flushed, 1);
        } else if let (Some(w), Some(state)) = (self.window.as_mut(), state) {
            w.state = state;
        }
    }

    /// Drops `n` records from the front and checkpoints the last of them,
    /// with the open window's state in the same write.
    fn commit(&mut self, m: &StreamMapping, n: usize, processed: bool) {
        let mut last = None;
        for _ in 0..n {
            last = self.pending.pop_front().map(|b| b.rec.sequence_number);
        }
        if last.is_some() || m.tumbling_window.is_some() {
            let window = self.window.as_ref();
            m.checkpoints
                .save(&m.consumer, &self.shard_id, last.as_deref(), window);
        }
        if processed {
            ConsumerMetrics::add(&m.metrics.records, n as u64);
        }
    }

    /// A failed invocation whose first `n` buffered records are to be retried.
    async fn failed(
        &mut self,
        m: &StreamMapping,
        n: usize,
        is_final: bool,
        last: LastResponse,
        partial: bool,
        why: &str,
    ) {
        let head = self.pending.front().map(|b| b.rec.sequence_number.clone());
        let same_head =
            matches!((&self.retry_head, &head), (Some(a), Some(b)) if cmp_seq(a, b).is_eq());
        if same_head {
            self.attempts += 1;
        } else {
            self.retry_head = head;
            self.attempts = 1;
        }
        ConsumerMetrics::add(&m.metrics.retries, 1);
        tracing::warn!(consumer = %m.consumer, shard = %self.shard_id, attempt = self.attempts, size = n, error = %why, "invocation failed");
        if m.max_retry_attempts.is_some_and(|max| self.attempts > max) {
            let count = self.attempts;
            if self
                .discard(m, n, Condition::RetryAttemptsExhausted, count, last)
                .await
                && is_final
            {
                self.window = None;
                m.checkpoints.save(&m.consumer, &self.shard_id, None, None);
            }
            return;
        }
        if let Some(top) = self.split.last_mut() {
            *top = n.max(1);
        } else if m.bisect_on_error && partial {
            // Bisected at the reported record: only the rest is retried.
            self.split.push(n.max(1));
        }
        self.back_off(m);
    }

    fn back_off(&mut self, m: &StreamMapping) {
        let factor = 1u32 << self.attempts.saturating_sub(1).min(6);
        let pause = (m.retry_backoff * factor).min(Duration::from_secs(5));
        self.backoff_until = Some(Instant::now() + pause);
    }
}

#[path = "shard_giving_up.rs"]
mod giving_up;

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
