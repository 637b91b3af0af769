//! Packing across viewers and requests, for a long-lived host: sinks that
//! hold the writes of concurrent requests for up to `linger`, merge them
//! into fuller entries (Kinesis records within the contract's 5 KB and 500
//! events; SRE message bodies within 64 KB), and make one batch call for
//! all. A per-request Lambda cannot: it only ever sees one request, so it
//! pays a PutRecords and a SendMessageBatch per player request.
//!
//! Ordering: a viewer's events must stay on one shard. A merged record's
//! partition key is the viewer's *key bucket* (`pk-<n>`, a stable hash of
//! viewer_id mod `keys`), so every record holding a viewer's events has the
//! same key; one flush runs at a time, each bucket's records in arrival
//! order. Each request still learns the fate of its own writes: a merged
//! entry's verdict is given to every request entry in it, so the core's
//! retry re-sends exactly the failed ones and a 200 still means durable.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use playback_domain::event::{MAX_EVENTS_PER_RECORD, MAX_PACK_BYTES};
use playback_domain::metrics::stable_hash;
use playback_domain::ports::{Chain, PortError, PortResult, Retry};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::ports::{EntryOutcome, SreQueue, StreamRecord, StreamSink};
use crate::MAX_SRE_BODY_BYTES;

/// Flush before the linger ends once this much waits (a PutRecords call takes 5 MB).
const FLUSH_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LingerConfig {
    /// The longest a request's writes wait for company (`PACK_LINGER_MS`).
    pub linger: Duration,
    /// Partition-key buckets (`PACK_KEYS`): several per shard so the keys
    /// spread evenly, few enough that a bucket gathers events in a linger.
    pub keys: u64,
}

impl LingerConfig {
    /// `PACK_LINGER_MS` (1000) and `PACK_KEYS` (256).
    pub fn from_env() -> Result<Self, playback_aws::AwsError> {
        let d = LingerConfig::default();
        let linger_ms = d.linger.as_millis() as u64;
        Ok(LingerConfig {
            linger: Duration::from_millis(playback_aws::config::parsed(
                "PACK_LINGER_MS",
                linger_ms,
            )?),
            keys: playback_aws::config::parsed("PACK_KEYS", d.keys)?.max(1),
        })
    }
}

impl Default for LingerConfig {
    fn default() -> Self {
        LingerConfig {
            linger: Duration::from_millis(1000),
            keys: 256,
        }
    }
}

/// The partition key of the bucket `viewer_id` falls in.
pub fn bucket_key(viewer_id: &str, keys: u64) -> String {
    format!("pk-{}", stable_hash(&[viewer_id]) % keys.max(1))
}

/// One write of a request: a group (merged only with its own) and bytes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub group: String,
    pub data: Vec<u8>,
}

/// What a lingering sink flushes to: the limits of one merged entry and of a call.
pub trait Flush: Send + Sync + 'static {
    const MAX_PER_CALL: usize;
    const MAX_ENTRY_BYTES: usize;
    const MAX_ENTRY_LINES: usize;
    fn write(
        &self,
        entries: Vec<Entry>,
    ) -> impl Future<Output = PortResult<Vec<EntryOutcome>>> + Send;
}

/// Kinesis records by key bucket, PutRecords' 500 a call.
pub struct ToStream<S>(pub Arc<S>);

impl<S: StreamSink + 'static> Flush for ToStream<S> {
    const MAX_PER_CALL: usize = 500;
    const MAX_ENTRY_BYTES: usize = MAX_PACK_BYTES;
    const MAX_ENTRY_LINES: usize = MAX_EVENTS_PER_RECORD;
    async fn write(&self, entries: Vec<Entry>) -> PortResult<Vec<EntryOutcome>> {
        let records: Vec<StreamRecord> = entries
            .into_iter()
            .map(|e| StreamRecord {
                partition_key: e.group,
                data: e.data,
            })
            .collect();
        self.0.put_records(&records).await
    }
}

/// SRE message bodies, SendMessageBatch's 10 a call.
pub struct ToSreQueue<Q>(pub Arc<Q>);

impl<Q: SreQueue + 'static> Flush for ToSreQueue<Q> {
    const MAX_PER_CALL: usize = Q::MAX_ENTRIES;
    const MAX_ENTRY_BYTES: usize = MAX_SRE_BODY_BYTES;
    const MAX_ENTRY_LINES: usize = MAX_EVENTS_PER_RECORD;
    async fn write(&self, entries: Vec<Entry>) -> PortResult<Vec<EntryOutcome>> {
        let bodies: Vec<String> = entries
            .into_iter()
            .map(|e| String::from_utf8_lossy(&e.data).into_owned())
            .collect();
        self.0.send_batch(&bodies).await
    }
}

struct Pending {
    entries: Vec<Entry>,
    /// When the request handed its writes over: the linger counts from here,
    /// so a request that arrived during a flush does not wait a full extra linger.
    arrived: Instant,
    done: oneshot::Sender<PortResult<Vec<EntryOutcome>>>,
}

/// A lingering sink in front of `F`; its packer task ends when it is dropped.
pub struct Linger<F> {
    tx: mpsc::UnboundedSender<Pending>,
    keys: u64,
    _flush: std::marker::PhantomData<fn() -> F>,
}

pub type LingeringStream<S> = Linger<ToStream<S>>;
pub type LingeringSreQueue<Q> = Linger<ToSreQueue<Q>>;

impl<F: Flush> Linger<F> {
    /// Starts the packer on the current runtime.
    pub fn spawn(flush: F, cfg: LingerConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(flush, cfg.linger, rx));
        Linger {
            tx,
            keys: cfg.keys,
            _flush: std::marker::PhantomData,
        }
    }

    async fn submit(&self, entries: Vec<Entry>) -> PortResult<Vec<EntryOutcome>> {
        let stopped = || {
            PortError::call(
                "linger",
                Retry::Retriable,
                None,
                "the packer task has stopped",
            )
        };
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Pending {
                entries,
                arrived: Instant::now(),
                done,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Lingers `inner`'s PutRecords.
pub fn stream<S: StreamSink + 'static>(inner: S, cfg: LingerConfig) -> LingeringStream<S> {
    Linger::spawn(ToStream(Arc::new(inner)), cfg)
}

/// Lingers `inner`'s SendMessageBatch.
pub fn sre_queue<Q: SreQueue + 'static>(inner: Q, cfg: LingerConfig) -> LingeringSreQueue<Q> {
    Linger::spawn(ToSreQueue(Arc::new(inner)), cfg)
}

impl<S: StreamSink + 'static> StreamSink for LingeringStream<S> {
    async fn put_records(&self, records: &[StreamRecord]) -> PortResult<Vec<EntryOutcome>> {
        let entries = records
            .iter()
            .map(|r| Entry {
                group: bucket_key(&r.partition_key, self.keys),
                data: r.data.clone(),
            })
            .collect();
        self.submit(entries).await
    }
}

impl<Q: SreQueue + 'static> SreQueue for LingeringSreQueue<Q> {
    /// The core hands over all of a request's bodies at once; the packer splits.
    const MAX_ENTRIES: usize = 500;
    async fn send_batch(&self, bodies: &[String]) -> PortResult<Vec<EntryOutcome>> {
        let entries = bodies
            .iter()
            .map(|b| Entry {
                group: String::new(),
                data: b.clone().into_bytes(),
            })
            .collect();
        self.submit(entries).await
    }
}

async fn run<F: Flush>(flush: F, linger: Duration, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let deadline = first.arrived + linger;
        let size = |p: &Pending| p.entries.iter().map(|e| e.data.len()).sum::<usize>();
        let mut bytes = size(&first);
        let mut batch = vec![first];
        while bytes < FLUSH_BYTES {
            tokio::select! {
                next = rx.recv() => match next {
                    Some(p) => {
                        bytes += size(&p);
                        batch.push(p);
                    }
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        // Whatever queued during the previous flush goes too (with no
        // linger, this is the only packing: the calls' own latency).
        while bytes < FLUSH_BYTES {
            let Ok(p) = rx.try_recv() else { break };
            bytes += size(&p);
            batch.push(p);
        }
        write_merged(&flush, batch).await;
    }
}

/// A merged entry and the request entries (pending, index) inside it.
struct Merged {
    entry: Entry,
    lines: usize,
    parts: Vec<(usize, usize)>,
}

/// Writes the waiting requests' entries merged, then answers each request
/// with its own entries' verdicts.
async fn write_merged<F: Flush>(flush: &F, batch: Vec<Pending>) {
    let merged = merge::<F>(&batch);
    let mut verdicts: Vec<Vec<EntryOutcome>> = batch
        .iter()
        .map(|p| {
            vec![
                EntryOutcome::Failed {
                    code: "NoVerdict".into()
                };
                p.entries.len()
            ]
        })
        .collect();
    let mut refused: Vec<Option<(Retry, String)>> = vec![None; batch.len()];
    for chunk in merged.chunks(F::MAX_PER_CALL.max(1)) {
        let entries = chunk.iter().map(|m| m.entry.clone()).collect();
        match flush.write(entries).await {
            Ok(outcomes) => {
                for (m, o) in chunk.iter().zip(outcomes) {
                    for &(p, i) in &m.parts {
                        verdicts[p][i] = o.clone();
                    }
                }
            }
            Err(e) => {
                let why = Chain(&e).to_string();
                for &(p, i) in chunk.iter().flat_map(|m| &m.parts) {
                    verdicts[p][i] = EntryOutcome::Failed { code: why.clone() };
                    if !e.is_retriable() {
                        refused[p] = Some((e.class(), why.clone()));
                    }
                }
            }
        }
    }
    for ((p, v), refused) in batch.into_iter().zip(verdicts).zip(refused) {
        let answer = match refused {
            // Retrying cannot help: the request fails now, as it would unpacked.
            Some((class, why)) => Err(PortError::call("linger", class, None, why)),
            None => Ok(v),
        };
        // A request that stopped waiting has nobody to tell.
        let _ = p.done.send(answer);
    }
}

fn merge<F: Flush>(batch: &[Pending]) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    let mut open: HashMap<&str, usize> = HashMap::new();
    for (p, pending) in batch.iter().enumerate() {
        for (i, e) in pending.entries.iter().enumerate() {
            let lines = e.data.iter().filter(|b| **b == b'\n').count() + 1;
            let fits = |m: &Merged| {
                m.entry.data.len() + 1 + e.data.len() <= F::MAX_ENTRY_BYTES
                    && m.lines + lines <= F::MAX_ENTRY_LINES
            };
            match open.get(e.group.as_str()).copied() {
                Some(at) if fits(&merged[at]) => {
                    let m = &mut merged[at];
                    m.entry.data.push(b'\n');
                    m.entry.data.extend_from_slice(&e.data);
                    m.lines += lines;
                    m.parts.push((p, i));
                }
                _ => {
                    open.insert(&e.group, merged.len());
                    merged.push(Merged {
                        entry: e.clone(),
                        lines,
                        parts: vec![(p, i)],
                    });
                }
            }
        }
    }
    merged
}
