//! The background producer in front of a batch API, as the Kinesis Producer
//! Library works: `send` never waits for the network; a task batches what
//! arrives (up to the call's limits, or `linger` after the batch's first
//! entry), delivers it through the retry policy, and when a round of retries
//! ends with entries still failing (the stream is down) keeps them and tries
//! again, holding everything behind them, until they are older than the
//! record TTL. So an outage of the stream stalls this producer only: the
//! generator, and the SQS path beside it, go on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{BatchApi, Deliverer, DeliveryStats, RetryPolicy};
use crate::error::LoadgenError;

#[derive(Debug, Clone, Copy)]
pub struct ProducerOptions {
    pub policy: RetryPolicy,
    /// Longest an entry waits for its batch to fill.
    pub linger: Duration,
    /// An entry not delivered this long after `send` is given up on (counted
    /// undelivered and expired), as the KPL's `RecordTtl`.
    pub record_ttl: Duration,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            policy: RetryPolicy::default(),
            linger: Duration::from_millis(100),
            record_ttl: Duration::from_secs(600),
        }
    }
}

type Queued<E> = (Instant, E);

pub struct Producer<E: Send + 'static> {
    tx: mpsc::UnboundedSender<Queued<E>>,
    backlog: Arc<AtomicU64>,
    /// Kept beside `backlog` so that `send` takes no lock.
    max_backlog: AtomicU64,
    stats: Arc<Mutex<DeliveryStats>>,
    task: JoinHandle<Result<(), LoadgenError>>,
}

impl<E: Send + 'static> Producer<E> {
    pub fn spawn<A: BatchApi<Entry = E>>(api: A, opts: ProducerOptions) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(Mutex::new(DeliveryStats::default()));
        let task = tokio::spawn(run(
            Deliverer::new(api, opts.policy),
            opts,
            rx,
            backlog.clone(),
            stats.clone(),
        ));
        Producer {
            tx,
            backlog,
            max_backlog: AtomicU64::new(0),
            stats,
            task,
        }
    }

    /// Queues an entry; never waits. After the task failed for good the
    /// entry is dropped: [`Producer::failed`] says so and `finish` reports why.
    pub fn send(&self, entry: E) {
        let n = self.backlog.fetch_add(1, Ordering::Relaxed) + 1;
        if self.tx.send((Instant::now(), entry)).is_err() {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.max_backlog.fetch_max(n, Ordering::Relaxed);
    }

    /// Entries sent and not yet delivered or given up on.
    pub fn backlog(&self) -> u64 {
        self.backlog.load(Ordering::Relaxed)
    }

    /// The figures so far.
    pub fn stats(&self) -> DeliveryStats {
        let mut s = self.stats.lock().expect("stats lock").clone();
        s.max_backlog = self.max_backlog.load(Ordering::Relaxed);
        s
    }

    /// The task stopped before `finish`: a non-retriable failure.
    pub fn failed(&self) -> bool {
        self.task.is_finished()
    }

    /// Delivers everything queued (or gives it up at its TTL) and returns the figures.
    pub async fn finish(self) -> Result<DeliveryStats, LoadgenError> {
        let Producer {
            tx,
            task,
            max_backlog,
            stats,
            ..
        } = self;
        drop(tx);
        task.await
            .map_err(|e| LoadgenError::Config(format!("producer task: {e}")))??;
        let mut s = stats.lock().expect("stats lock").clone();
        s.max_backlog = max_backlog.into_inner();
        Ok(s)
    }
}

async fn run<A: BatchApi>(
    mut d: Deliverer<A>,
    opts: ProducerOptions,
    mut rx: mpsc::UnboundedReceiver<Queued<A::Entry>>,
    backlog: Arc<AtomicU64>,
    stats: Arc<Mutex<DeliveryStats>>,
) -> Result<(), LoadgenError> {
    let mut carry: Option<Queued<A::Entry>> = None;
    loop {
        let next = match carry.take() {
            Some(c) => Some(c),
            None => rx.recv().await,
        };
        let Some((oldest, first)) = next else {
            return Ok(());
        };
        let deadline = oldest + opts.linger;
        let mut bytes = A::size(&first);
        let mut batch = vec![first];
        while batch.len() < A::MAX_ENTRIES {
            let next = tokio::select! {
                biased;
                n = rx.recv() => n,
                _ = tokio::time::sleep_until(deadline) => None,
            };
            let Some((at, e)) = next else { break };
            if bytes + A::size(&e) > A::MAX_BYTES {
                carry = Some((at, e));
                break;
            }
            bytes += A::size(&e);
            batch.push(e);
        }
        let n = batch.len() as u64;
        let result = deliver_until_done(&mut d, batch, oldest, &opts).await;
        backlog.fetch_sub(n, Ordering::Relaxed);
        *stats.lock().expect("stats lock") = d.stats.clone();
        result?;
    }
}

/// One batch, round after round, until delivered or past its TTL.
async fn deliver_until_done<A: BatchApi>(
    d: &mut Deliverer<A>,
    mut pending: Vec<A::Entry>,
    oldest: Instant,
    opts: &ProducerOptions,
) -> Result<(), LoadgenError> {
    loop {
        pending = d.deliver(pending).await?;
        if pending.is_empty() {
            let waited = oldest.elapsed().as_millis() as u64;
            d.stats.max_wait_ms = d.stats.max_wait_ms.max(waited);
            return Ok(());
        }
        if oldest.elapsed() >= opts.record_ttl {
            let n = pending.len() as u64;
            tracing::warn!(
                entries = n,
                error = d.last_error.as_deref().unwrap_or_default(),
                "records older than the TTL given up on"
            );
            d.stats.undelivered += n;
            d.stats.expired += n;
            return Ok(());
        }
        tokio::time::sleep(opts.policy.max_delay).await;
    }
}
