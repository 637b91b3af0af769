//! The ingest edge on this machine: the collector's own HTTP host
//! (`collector::server`, what `collector-server` runs on Fargate) on
//! 127.0.0.1, over its real Kinesis, SQS and dead-letter adapters pointed at
//! the emulator. Players (the load generator's `--collector-url`) POST to it
//! with an app key the caller names (the demo's: `loadgen::sinks::DEMO_APP`).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_config::SdkConfig;
pub use collector::linger::LingerConfig;
use collector::linger::{LingeringSreQueue, LingeringStream};
use collector::memory::MemoryKeyStore;
use collector::ports::{EntryOutcome, StreamRecord, StreamSink};
use collector::{Collector, KinesisStream, SqsSreQueue};
use playback_aws::emf::Metrics;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_domain::ports::PortResult;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::setup::Resources;
use crate::Error;

/// Records and events the collector wrote to the stream, and the calls.
#[derive(Debug, Default)]
pub struct Written {
    pub records: AtomicU64,
    pub events: AtomicU64,
    pub put_records_calls: AtomicU64,
    /// Records the fault double refused (`put_failure_rate`).
    pub injected_failures: AtomicU64,
}

impl Written {
    /// Events per Kinesis record, as the collector packed them.
    pub fn events_per_record(&self) -> f64 {
        let r = self.records.load(Ordering::Relaxed);
        self.events.load(Ordering::Relaxed) as f64 / r.max(1) as f64
    }
}

/// The stream adapter, counting what it wrote (after the packer merged it);
/// with a `put_failure_rate`, also a test double of a throttled shard: that
/// fraction of the entries (every 1/rate-th, deterministically) come back
/// `ProvisionedThroughputExceededException` without being sent, as a partial
/// PutRecords failure does.
pub struct CountingStream {
    inner: KinesisStream,
    written: Arc<Written>,
    put_failure_rate: f64,
    seen: AtomicU64,
}

impl CountingStream {
    fn injects(&self) -> bool {
        let n = self.seen.fetch_add(1, Ordering::Relaxed) as f64;
        ((n + 1.0) * self.put_failure_rate).floor() > (n * self.put_failure_rate).floor()
    }
}

impl StreamSink for CountingStream {
    async fn put_records(&self, records: &[StreamRecord]) -> PortResult<Vec<EntryOutcome>> {
        let refused: Vec<bool> = records.iter().map(|_| self.injects()).collect();
        // Only a call with refused entries needs a filtered copy.
        let sent: Cow<'_, [StreamRecord]> = if refused.contains(&true) {
            let kept = records.iter().zip(&refused).filter(|(_, r)| !**r);
            Cow::Owned(kept.map(|(rec, _)| rec.clone()).collect())
        } else {
            Cow::Borrowed(records)
        };
        self.written
            .put_records_calls
            .fetch_add(1, Ordering::Relaxed);
        let mut answers = if sent.is_empty() {
            Vec::new()
        } else {
            self.inner.put_records(&sent).await?
        }
        .into_iter();
        let mut outcomes = Vec::with_capacity(records.len());
        for (r, refused) in records.iter().zip(refused) {
            if refused {
                self.written
                    .injected_failures
                    .fetch_add(1, Ordering::Relaxed);
                outcomes.push(EntryOutcome::Failed {
                    code: "ProvisionedThroughputExceededException".into(),
                });
                continue;
            }
            let o = answers.next().unwrap_or(EntryOutcome::Failed {
                code: "NoVerdict".into(),
            });
            if o == EntryOutcome::Written {
                self.written.records.fetch_add(1, Ordering::Relaxed);
                let lines = r.data.split(|b| *b == b'\n').filter(|l| !l.is_empty());
                self.written
                    .events
                    .fetch_add(lines.count() as u64, Ordering::Relaxed);
            }
            outcomes.push(o);
        }
        Ok(outcomes)
    }
}

pub type LocalCollector = Collector<
    MemoryKeyStore,
    LingeringStream<CountingStream>,
    LingeringSreQueue<SqsSreQueue>,
    SqsDeadLetters,
>;

/// A running local collector.
pub struct CollectorHandle {
    /// `http://127.0.0.1:<port>/v1/events`.
    pub url: String,
    pub written: Arc<Written>,
    cancel: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl CollectorHandle {
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Ok(Err(e)) = self.task.await {
            tracing::warn!(error = %e, "local collector stopped with an error");
        }
    }
}

/// One app key the local collector accepts: (app id, kid, key).
pub type AppKey<'a> = (&'a str, &'a str, &'a str);

/// How the local collector runs.
#[derive(Debug, Clone, Copy)]
pub struct LocalCollectorOptions<'a> {
    pub key: AppKey<'a>,
    pub linger: LingerConfig,
    /// Fraction of PutRecords entries the fault double refuses (0 = none).
    pub put_failure_rate: f64,
}

/// The collector over the emulator's resources, accepting `o.key`.
pub fn local_collector(
    aws: &SdkConfig,
    r: &Resources,
    o: LocalCollectorOptions<'_>,
) -> (LocalCollector, Arc<Written>) {
    let (key, linger) = (o.key, o.linger);
    let keys = MemoryKeyStore::default().with_key(key.0, key.1, key.2);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let written = Arc::new(Written::default());
    let stream = CountingStream {
        inner: KinesisStream {
            client: aws_sdk_kinesis::Client::new(aws),
            stream_name: r.stream_name.clone(),
        },
        written: written.clone(),
        put_failure_rate: o.put_failure_rate.clamp(0.0, 1.0),
        seen: AtomicU64::new(0),
    };
    let c = Collector::new(
        keys,
        collector::linger::stream(stream, linger),
        collector::linger::sre_queue(
            SqsSreQueue {
                client: sqs.clone(),
                queue_url: r.quality_queue_url.clone(),
            },
            linger,
        ),
        SqsDeadLetters::new(sqs, r.poison_dlq_url.clone()),
        Metrics::Off,
    );
    (c, written)
}

/// Serves the collector on 127.0.0.1 (an ephemeral port) until shut down.
pub async fn start(
    aws: &SdkConfig,
    r: &Resources,
    o: LocalCollectorOptions<'_>,
) -> Result<CollectorHandle, Error> {
    let (c, written) = local_collector(aws, r, o);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::Config(format!("local collector: bind 127.0.0.1:0: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("local collector: {e}")))?;
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let task = tokio::spawn(collector::server::serve(
        listener,
        Arc::new(c),
        async move { stop.cancelled().await },
    ));
    Ok(CollectorHandle {
        url: format!("http://{addr}{}", collector::PATH),
        written,
        cancel,
        task,
    })
}
