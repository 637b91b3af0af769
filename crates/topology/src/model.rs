//! The structs of pipeline.json. Every struct denies unknown fields, so a
//! renamed key is an error, never a silently defaulted value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Consumer names used as keys of `consumers` (the CDK app creates exactly these).
pub const QOE_ALERTS: &str = "qoe-alerts";
pub const SESSION_FEATURES: &str = "session-features";
pub const CONSUMERS: [&str; 2] = [QOE_ALERTS, SESSION_FEATURES];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Free text for readers of the file.
    #[serde(rename = "$comment", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub stream: StreamSpec,
    pub consumers: BTreeMap<String, ConsumerSpec>,
    pub sre_buffer: SreBufferSpec,
    pub poison_dlq: String,
    pub tables: Tables,
    pub alerts: AlertsSpec,
    pub sre: SreSpec,
    pub features: FeaturesSpec,
    pub canonical: CanonicalSpec,
    pub lake: LakeSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    pub name: String,
    /// "ON_DEMAND" or "PROVISIONED".
    pub mode: String,
    pub provisioned_shards: u32,
    /// Shards of the emulator's stream (local runs only; the CDK ignores it).
    pub local_shards: u32,
    pub retention_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    pub efo_consumer: String,
    pub batch_size: usize,
    pub batching_window_s: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tumbling_window_s: Option<u64>,
    pub parallelization_factor: u32,
    /// -1 (Lambda's "infinite") is accepted.
    pub max_retry_attempts: i64,
    /// -1 (Lambda's "infinite") is accepted.
    pub max_record_age_s: i64,
    pub bisect_on_error: bool,
    pub memory_mb: u32,
    pub timeout_s: u64,
}

/// The canonical Iceberg table's job (functions/canonical-merge): its schedules,
/// snapshot retention (royalty audits time-travel), watermark lookback, lag alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalSpec {
    pub merge_every_minutes: u32,
    pub optimize_hour_utc: u32,
    pub vacuum_hour_utc: u32,
    pub retention_days: u32,
    pub lookback_days: u32,
    pub optimize_days: u32,
    pub lag_alarm_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SreBufferSpec {
    pub queue: String,
    pub dlq: String,
    pub max_receive_count: u32,
    pub visibility_timeout_s: u32,
    pub batch_size: usize,
    pub batching_window_s: u64,
    pub max_concurrency: u32,
    pub memory_mb: u32,
    pub timeout_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    pub features: TableSpec,
    pub windows: TableSpec,
    pub alerts: TableSpec,
    pub sre: TableSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    pub pk: String,
    /// DynamoDB scalar type of the partition key: "S" (the default) or "N".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pk_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sk: Option<String>,
    /// DynamoDB scalar type of the sort key: "S" (the default) or "N".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sk_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// The QoE alert rule and where alerts go. Not `AlertRule` flattened:
/// serde's flatten cannot deny unknown fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSpec {
    pub topic: String,
    pub baseline_ratio: f64,
    pub margin: f64,
    pub min_sessions: u64,
    pub min_sample_ms: u64,
}

impl AlertsSpec {
    /// The rule qoe-alerts runs with.
    pub fn rule(&self) -> playback_domain::qoe::AlertRule {
        playback_domain::qoe::AlertRule {
            baseline_ratio: self.baseline_ratio,
            margin: self.margin,
            min_sessions: self.min_sessions,
            min_sample_ms: self.min_sample_ms,
        }
    }
}

/// The SRE rule, defined once in the domain crate (it denies unknown fields too).
pub type SreSpec = playback_domain::sre::SreRule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesSpec {
    pub ttl_days: i64,
}

impl FeaturesSpec {
    /// A feature item's time to live (its `expires_at` is written this far ahead).
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_days * 86_400
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeSpec {
    pub bucket: String,
    pub prefix: String,
    pub error_prefix: String,
    pub reports_prefix: String,
    /// The title catalogue (`playback.titles`): `<catalogue_prefix>part-0.parquet`.
    pub catalogue_prefix: String,
    /// Long-horizon feature runs: `as_of=<ms>/…parquet` and `_runs/<ms>.json` manifests.
    pub long_horizon_prefix: String,
    /// Point-in-time training examples: `dt=<day>/part-0.parquet`.
    pub training_prefix: String,
    pub firehose: String,
    pub buffer_mb: u64,
    pub buffer_s: u64,
    pub glue_database: String,
    pub glue_table: String,
    pub athena_workgroup: String,
    pub athena_bytes_scanned_cutoff: u64,
}
