//! The delivery stream's settings, from infra/pipeline.json (the topology the
//! CDK app deploys), with buffering overridable for local runs.

use playback_topology::{LakeSpec, Topology};

/// Firehose refuses a smaller buffer once dynamic partitioning is on
/// (DYNAMIC_PARTITIONING_MIN_BUFFER_MB in infra/lib/config.ts).
pub const DYNAMIC_PARTITIONING_MIN_BUFFER_MB: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirehoseConfig {
    pub delivery_stream_name: String,
    /// The lake bucket (informational: the store knows where it writes).
    pub bucket: String,
    pub prefix: String,
    pub error_prefix: String,
    /// Per-partition buffer size, measured on the transform's JSON output.
    pub buffer_bytes: usize,
    pub buffer_interval_ms: i64,
    /// Payload of one Lambda invocation (the Lambda processor's BufferSizeInMBs).
    pub lambda_buffer_bytes: usize,
    /// Retries of an invocation whose response breaks the contract.
    pub lambda_retries: u32,
    pub lambda_arn: String,
    pub region: String,
    pub account_id: String,
    pub glue_database: String,
    pub glue_table: String,
}

impl FirehoseConfig {
    /// The delivery stream of a topology's `lake`, as deployed (moto's
    /// account and us-east-1 for the ARNs in error documents).
    pub fn from_lake(l: &LakeSpec) -> Self {
        let (region, account_id) = ("us-east-1".to_string(), "123456789012".to_string());
        FirehoseConfig {
            lambda_arn: format!("arn:aws:lambda:{region}:{account_id}:function:firehose-transform"),
            delivery_stream_name: l.firehose.clone(),
            bucket: l.bucket.clone(),
            prefix: l.prefix.clone(),
            error_prefix: l.error_prefix.clone(),
            buffer_bytes: (l.buffer_mb as usize).max(DYNAMIC_PARTITIONING_MIN_BUFFER_MB) << 20,
            buffer_interval_ms: l.buffer_s as i64 * 1000,
            lambda_buffer_bytes: 1 << 20,
            lambda_retries: 3,
            region,
            account_id,
            glue_database: l.glue_database.clone(),
            glue_table: l.glue_table.clone(),
        }
    }

    /// The delivery stream of the embedded infra/pipeline.json.
    pub fn from_topology() -> Self {
        Self::from_lake(&Topology::deployed().lake)
    }

    /// Overrides the buffering hints (the local demo flushes every few seconds).
    pub fn with_buffering(mut self, bytes: usize, interval_ms: i64) -> Self {
        self.buffer_bytes = bytes.max(1);
        self.buffer_interval_ms = interval_ms;
        self
    }
}
