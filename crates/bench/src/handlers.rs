//! Handler throughput and write amplification, against the in-memory twins.
//!
//! Two figures per handler, both on one thread (a current-thread Tokio runtime):
//! - **end to end**: the event JSON bytes Lambda hands the runtime ->
//!   `serde_path_to_error` + `serde_json::Deserializer::from_slice` into the
//!   raw payload (exactly what `lambda_runtime` 1.5 does for main.rs) -> the
//!   function's entry point `App::invoke_at` (the one main.rs calls: pooled
//!   one-pass parse, base64 of every record's `data`, the handler) ->
//!   `serde_json::to_vec` of the response. This is the CPU a warm Lambda pays
//!   per batch, minus the runtime's HTTP exchange and the network calls the
//!   twins stand in for.
//! - **core**: `handle` on the already-deserialised event: decode (UTF-8,
//!   newline split, JSON parse) + validate + aggregate + the store calls.
//!
//! plus the parts (deserialise only, `decode_batch` only) to show where the
//! time goes.

use playback_aws::emf::Metrics;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use aws_lambda_events::event::kinesis::KinesisEvent;
use playback_aws::kinesis_batch::{decode_batch, BatchPool, KinesisBatch};
use playback_domain::features::{event_id_hash, ViewerFeatures, RECENT_EVENT_IDS};
use playback_domain::memory::{
    MemoryAlertSink, MemoryDeadLetters, MemoryFeatureStore, MemoryWindowStore,
};
use playback_domain::qoe::AlertRule;
use playback_domain::{Clock, StreamPosition};
use playback_topology::Topology;
use qoe_alerts::QoeAlerts;
use serde::Serialize;
use serde_json::value::RawValue;
use session_features::SessionFeatures;
use tokio::runtime::Runtime;

use crate::inputs::EventFile;
use crate::timing::{repeat, Stats};

/// The functions' entry points on the in-memory twins.
pub type Qoe = qoe_alerts::App<MemoryWindowStore, MemoryAlertSink, MemoryDeadLetters>;
pub type Features = session_features::App<MemoryFeatureStore, MemoryDeadLetters>;

/// The deployed alert rule (infra/pipeline.json `alerts`).
pub fn alert_rule() -> AlertRule {
    Topology::deployed().alerts.rule()
}

/// The handlers build and serialise their EMF documents as in Lambda (that
/// cost is in the figures), then drop them: no stdout to silence.
pub fn qoe() -> Qoe {
    let handler = QoeAlerts {
        windows: MemoryWindowStore::default(),
        alerts: MemoryAlertSink::default(),
        dead_letters: MemoryDeadLetters::default(),
        rule: alert_rule(),
        metrics: Metrics::Discard,
    };
    qoe_alerts::App::with_pool(handler, POOL.clone())
}

pub fn features(stored: BTreeMap<String, ViewerFeatures>) -> Features {
    let store = MemoryFeatureStore::default();
    *store.items.lock().unwrap() = stored;
    let handler = SessionFeatures {
        store,
        dead_letters: MemoryDeadLetters::default(),
        metrics: Metrics::Discard,
    };
    session_features::App::with_pool(handler, POOL.clone())
}

pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime")
}

/// Deserialises a Lambda payload the way lambda_runtime 1.5 does.
pub fn lambda_deserialize<T: serde::de::DeserializeOwned>(body: &[u8]) -> T {
    let jd = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(jd).expect("benchmark input deserialises")
}

/// Batches reused across runs (every handler built here shares them), as a
/// warm Lambda's `BatchPool` reuses them across invocations.
static POOL: LazyLock<Arc<BatchPool>> = LazyLock::new(Arc::default);

/// The payload as both functions' entry points take it: lambda_runtime hands
/// over the raw JSON, parsed in one pass into a pooled [`KinesisBatch`].
pub fn lambda_payload(body: &[u8]) -> KinesisBatch {
    let raw: Box<RawValue> = lambda_deserialize(body);
    POOL.parse(raw.get())
        .expect("benchmark input is a Kinesis event")
}

/// Back to the pool once the handler is done, as the entry points do.
pub fn recycle(batch: KinesisBatch) {
    POOL.recycle(batch)
}

/// An aws_lambda_events value (sliced or edited by the setup, never timed)
/// as the handlers' payload type, through the JSON Lambda would send.
pub fn to_batch(event: &impl Serialize) -> KinesisBatch {
    serde_json::from_value(serde_json::to_value(event).expect("serialises")).expect("Kinesis event")
}

/// qoe-alerts end to end through its entry point: event bytes -> response bytes.
pub fn qoe_e2e(rt: &Runtime, app: &Qoe, body: &[u8], clock: Clock) -> Vec<u8> {
    let raw: Box<RawValue> = lambda_deserialize(body);
    let (resp, _) = (rt.block_on(app.invoke_at(raw.get(), clock))).expect("qoe invoke");
    serde_json::to_vec(&resp).expect("response serialises")
}

/// session-features end to end through its entry point: event bytes -> response bytes.
pub fn features_e2e(rt: &Runtime, app: &Features, body: &[u8], clock: Clock) -> Vec<u8> {
    let raw: Box<RawValue> = lambda_deserialize(body);
    let (resp, _) = (rt.block_on(app.invoke_at(raw.get(), clock))).expect("features invoke");
    serde_json::to_vec(&resp).expect("response serialises")
}

/// Stored features as after earlier batches: every viewer of `event` has an
/// item with a full list of recent event ids, recent titles and a stream
/// position before this batch (so nothing is skipped as a replay).
pub fn warm_store(
    rt: &Runtime,
    event: &KinesisBatch,
    clock: Clock,
) -> BTreeMap<String, ViewerFeatures> {
    let h = features(BTreeMap::new()).handler;
    rt.block_on(h.handle(event, clock));
    let mut items = h.store.items.into_inner().unwrap();
    let before = StreamPosition::new("1", 0).expect("literal").sortable();
    for f in items.values_mut() {
        f.last_position = Some(before.clone());
        f.recent_event_hashes = (0..RECENT_EVENT_IDS)
            .map(|i| event_id_hash(&format!("{}-earlier-{i:04}-0000-000000000000", f.viewer_id)))
            .collect();
        f.events_applied += RECENT_EVENT_IDS as u64;
    }
    items
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Measurement {
    pub name: String,
    pub what: String,
    pub events: usize,
    pub records: usize,
    pub stats: Stats,
}

impl Measurement {
    pub fn events_per_s(&self) -> f64 {
        self.stats.per_s()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub warmup: usize,
    pub runs: usize,
}

fn m(name: &str, what: &str, f: &EventFile, stats: Stats) -> Measurement {
    Measurement {
        name: name.into(),
        what: what.into(),
        events: f.events,
        records: f.records,
        stats,
    }
}

pub use crate::writes::{feature_item_bytes, feature_writes, split, window_writes, Writes};

/// Every qoe-alerts measurement on one event file (open = state carried,
/// final = window flush).
pub fn measure_qoe(
    rt: &Runtime,
    open: &EventFile,
    fin: &EventFile,
    p: Plan,
    tag: &str,
) -> Vec<Measurement> {
    let n = open.events as u64;
    let mut out = Vec::new();
    let ev_open = lambda_payload(&open.bytes);
    let ev_final = lambda_payload(&fin.bytes);
    let (w, r) = (p.warmup, p.runs);

    out.push(m(
        &format!("qoe-alerts{tag} e2e (open window)"),
        "event JSON -> deserialise -> handle -> response JSON; state carried",
        open,
        repeat(w, r, n, qoe, |h| qoe_e2e(rt, &h, &open.bytes, open.clock)),
    ));
    out.push(m(
        &format!("qoe-alerts{tag} e2e (final, flush)"),
        "as above, last invocation of the window: one window-store write for the shard",
        fin,
        repeat(w, r, n, qoe, |h| qoe_e2e(rt, &h, &fin.bytes, fin.clock)),
    ));
    out.push(m(
        &format!("qoe-alerts{tag} core (open window)"),
        "handle() on the parsed event: decode + validate + aggregate + state",
        open,
        repeat(w, r, n, qoe, |h| {
            rt.block_on(h.handler.handle(&ev_open, open.clock))
                .expect("qoe")
        }),
    ));
    out.push(m(
        &format!("qoe-alerts{tag} core (final, flush)"),
        "handle() on the parsed event, flushing the window",
        fin,
        repeat(w, r, n, qoe, |h| {
            rt.block_on(h.handler.handle(&ev_final, fin.clock))
                .expect("qoe")
        }),
    ));
    out.push(m(
        &format!("qoe-alerts{tag} part: deserialise event"),
        "the payload alone as main.rs takes it (raw JSON -> KinesisBatch, base64)",
        open,
        repeat(w, r, n, || (), |_| recycle(lambda_payload(&open.bytes))),
    ));
    out.push(m(
        &format!("qoe-alerts{tag} part: decode_batch"),
        "decode + validate only (playback_aws::kinesis_batch::decode_batch)",
        open,
        repeat(
            w,
            r,
            n,
            || (),
            |_| {
                decode_batch(&ev_open, qoe_alerts::CONSUMER, open.clock)
                    .events
                    .len()
            },
        ),
    ));
    out
}

/// Every session-features measurement on one event file.
pub fn measure_features(rt: &Runtime, f: &EventFile, p: Plan, tag: &str) -> Vec<Measurement> {
    let n = f.events as u64;
    let (w, r) = (p.warmup, p.runs);
    let event = lambda_payload(&f.bytes);
    let warm = warm_store(rt, &event, f.clock);
    let mut out = Vec::new();
    out.push(m(
        &format!("session-features{tag} e2e (warm store)"),
        "event JSON -> deserialise -> handle -> response JSON; every viewer has stored features",
        f,
        repeat(
            w,
            r,
            n,
            || features(warm.clone()),
            |h| features_e2e(rt, &h, &f.bytes, f.clock),
        ),
    ));
    out.push(m(
        &format!("session-features{tag} core (warm store)"),
        "handle() on the parsed event: decode + validate + load + fold + one save per viewer",
        f,
        repeat(
            w,
            r,
            n,
            || features(warm.clone()),
            |h| rt.block_on(h.handler.handle(&event, f.clock)),
        ),
    ));
    out.push(m(
        &format!("session-features{tag} core (empty store)"),
        "as above, first sight of every viewer",
        f,
        repeat(
            w,
            r,
            n,
            || features(BTreeMap::new()),
            |h| rt.block_on(h.handler.handle(&event, f.clock)),
        ),
    ));
    out.push(m(
        &format!("session-features{tag} part: deserialise event"),
        "the payload alone as main.rs takes it (raw JSON -> KinesisBatch, base64)",
        f,
        repeat(w, r, n, || (), |_| recycle(lambda_payload(&f.bytes))),
    ));
    out.push(m(
        &format!("session-features{tag} part: decode_batch"),
        "decode + validate only",
        f,
        repeat(
            w,
            r,
            n,
            || (),
            |_| {
                decode_batch(&event, session_features::CONSUMER, f.clock)
                    .events
                    .len()
            },
        ),
    ));
    out
}

/// The Firehose transformation event for the records of `event` (after
/// de-aggregation a Firehose record is one event; with one event per Kinesis
/// record the two coincide), as the JSON Firehose sends the Lambda.
pub fn firehose_event_json(event: &KinesisEvent) -> Vec<u8> {
    use base64::Engine;
    let records: Vec<serde_json::Value> = event
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ms = r.kinesis.approximate_arrival_timestamp.0.timestamp_millis();
            serde_json::json!({
                "recordId": format!("{:020}{:012}", ms, i),
                "approximateArrivalTimestamp": ms,
                "data": base64::engine::general_purpose::STANDARD.encode(&r.kinesis.data.0),
                "kinesisRecordMetadata": {
                    "shardId": "shardId-000000000000",
                    "partitionKey": r.kinesis.partition_key,
                    "approximateArrivalTimestamp": ms,
                    "sequenceNumber": r.kinesis.sequence_number,
                    "subsequenceNumber": 0
                }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "invocationId": "bench",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/playback-lake",
        "region": "us-east-1",
        "records": records
    }))
    .expect("firehose event serialises")
}

/// firehose-transform end to end (event JSON -> transform -> response JSON) and core.
pub fn measure_transform(f: &EventFile, p: Plan) -> Vec<Measurement> {
    let event: KinesisEvent = lambda_deserialize(&f.bytes);
    let body = firehose_event_json(&event);
    let parsed: firehose_transform::FirehoseEvent = lambda_deserialize(&body);
    let n = f.events as u64;
    vec![
        m(
            "firehose-transform e2e",
            "Firehose event JSON -> raw payload -> the entry point (deserialise, transform: validate, lake row JSON, dt/hour keys) -> response JSON",
            f,
            repeat(p.warmup, p.runs, n, || (), |_| {
                let raw: Box<RawValue> = lambda_deserialize(&body);
                let resp = (firehose_transform::App.invoke_at(raw.get(), f.clock))
                    .expect("firehose event");
                serde_json::to_vec(&resp).expect("response serialises")
            }),
        ),
        m(
            "firehose-transform core",
            "transform() on the parsed event",
            f,
            repeat(p.warmup, p.runs, n, || (), |_| firehose_transform::transform(&parsed, f.clock)),
        ),
    ]
}
