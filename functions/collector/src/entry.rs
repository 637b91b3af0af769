//! The deployment: configuration from the environment (README.md's table),
//! the AWS adapters of the collector's ports, and [`build`].

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use playback_aws::classify::port_error;
use playback_aws::config::{optional, parsed, required};
use playback_aws::emf::Metrics;
use playback_aws::sqs_batch::send_bodies;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_domain::event::DEFAULT_MAX_FUTURE_SKEW_MS;
use playback_domain::ports::{PortError, PortResult, Retry};
use serde::Deserialize;

use crate::dynamo_keys::{AppKeys, DynamoKeyStore, DEFAULT_CACHE_TTL};
use crate::memory::MemoryKeyStore;
use crate::ports::{EntryOutcome, KeyHash, SreQueue, StreamRecord, StreamSink};
use crate::Collector;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Env(#[from] playback_aws::AwsError),
    #[error("COLLECTOR_KEYS: {0}")]
    Keys(String),
}

/// One key of `COLLECTOR_KEYS`: only its SHA-256, hex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyEntry {
    pub app_id: String,
    pub kid: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub stream_name: String,
    pub sre_queue_url: String,
    pub poison_dlq_url: String,
    pub keys: Vec<(String, String, KeyHash)>,
    /// The DynamoDB keys table; when set, `keys` is ignored.
    pub keys_table: Option<String>,
    pub keys_cache_ttl: std::time::Duration,
    pub max_future_skew_ms: i64,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let keys = parse_keys(&optional("COLLECTOR_KEYS").unwrap_or_else(|| "[]".into()))?;
        Ok(Config {
            stream_name: required("STREAM_NAME")?,
            sre_queue_url: required("SRE_QUEUE_URL")?,
            poison_dlq_url: required("POISON_DLQ_URL")?,
            keys,
            keys_table: optional("KEYS_TABLE"),
            keys_cache_ttl: std::time::Duration::from_secs(parsed(
                "KEYS_CACHE_TTL_S",
                DEFAULT_CACHE_TTL.as_secs(),
            )?),
            max_future_skew_ms: parsed("MAX_FUTURE_SKEW_MS", DEFAULT_MAX_FUTURE_SKEW_MS)?,
            metrics: Metrics::from_env(),
        })
    }
}

/// `[{"app_id":..,"kid":..,"sha256":"<64 hex>"}, ..]`.
pub fn parse_keys(json: &str) -> Result<Vec<(String, String, KeyHash)>, ConfigError> {
    let entries: Vec<KeyEntry> =
        serde_json::from_str(json).map_err(|e| ConfigError::Keys(e.to_string()))?;
    entries
        .into_iter()
        .map(|k| {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&k.sha256, &mut hash)
                .map_err(|e| ConfigError::Keys(format!("{}/{}: sha256: {e}", k.app_id, k.kid)))?;
            Ok((k.app_id, k.kid, hash))
        })
        .collect()
}

pub type AwsCollector = Collector<AppKeys, KinesisStream, SqsSreQueue, SqsDeadLetters>;

/// The collector on the AWS adapters, clients built once.
pub fn build(aws: &SdkConfig, cfg: Config) -> AwsCollector {
    build_with(aws, cfg, |k| k, |q| q)
}

/// The long-lived host's collector: the stream and SRE queue writes of
/// concurrent requests packed together (`linger`).
#[cfg(feature = "server")]
pub fn build_lingering(
    aws: &SdkConfig,
    cfg: Config,
    linger: crate::linger::LingerConfig,
) -> Collector<
    AppKeys,
    crate::linger::LingeringStream<KinesisStream>,
    crate::linger::LingeringSreQueue<SqsSreQueue>,
    SqsDeadLetters,
> {
    build_with(
        aws,
        cfg,
        |k| crate::linger::stream(k, linger),
        |q| crate::linger::sre_queue(q, linger),
    )
}

/// [`build`] with the stream and SRE queue adapters wrapped.
fn build_with<S: StreamSink, Q: SreQueue>(
    aws: &SdkConfig,
    cfg: Config,
    stream: impl FnOnce(KinesisStream) -> S,
    sre: impl FnOnce(SqsSreQueue) -> Q,
) -> Collector<AppKeys, S, Q, SqsDeadLetters> {
    let keys = match &cfg.keys_table {
        Some(table) => AppKeys::Dynamo(
            DynamoKeyStore::new(aws_sdk_dynamodb::Client::new(aws), table)
                .with_ttl(cfg.keys_cache_ttl),
        ),
        None => {
            let keys = MemoryKeyStore::default();
            for (app, kid, hash) in &cfg.keys {
                keys.insert_hash(app, kid, *hash);
            }
            AppKeys::Memory(keys)
        }
    };
    let sqs = aws_sdk_sqs::Client::new(aws);
    let mut c = Collector::new(
        keys,
        stream(KinesisStream {
            client: aws_sdk_kinesis::Client::new(aws),
            stream_name: cfg.stream_name,
        }),
        sre(SqsSreQueue {
            client: sqs.clone(),
            queue_url: cfg.sre_queue_url,
        }),
        SqsDeadLetters::new(sqs, cfg.poison_dlq_url),
        cfg.metrics,
    );
    c.max_future_skew_ms = cfg.max_future_skew_ms;
    c
}

/// PutRecords to one stream.
pub struct KinesisStream {
    pub client: aws_sdk_kinesis::Client,
    pub stream_name: String,
}

impl StreamSink for KinesisStream {
    async fn put_records(&self, records: &[StreamRecord]) -> PortResult<Vec<EntryOutcome>> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .partition_key(r.partition_key.clone())
                    .data(Blob::new(r.data.clone()))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PortError::call("kinesis.put_records", Retry::NonRetriable, None, e))?;
        let out = self
            .client
            .put_records()
            .stream_name(&self.stream_name)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(|e| port_error("kinesis.put_records", e))?;
        let mut outcomes: Vec<EntryOutcome> = out
            .records()
            .iter()
            .map(|r| match r.error_code() {
                None => EntryOutcome::Written,
                Some(code) => EntryOutcome::Failed { code: code.into() },
            })
            .collect();
        outcomes.resize(
            records.len(),
            EntryOutcome::Failed {
                code: "NoVerdict".into(),
            },
        );
        Ok(outcomes)
    }
}

/// SendMessageBatch to the SRE queue.
pub struct SqsSreQueue {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl SreQueue for SqsSreQueue {
    async fn send_batch(&self, bodies: &[String]) -> PortResult<Vec<EntryOutcome>> {
        let failed = send_bodies(&self.client, &self.queue_url, bodies)
            .await
            .map_err(|e| port_error("sqs.send_message_batch", e))?;
        Ok(failed
            .into_iter()
            .map(|f| match f {
                None => EntryOutcome::Written,
                Some(f) => EntryOutcome::Failed { code: f.code },
            })
            .collect())
    }
}
