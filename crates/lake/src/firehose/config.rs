//! The delivery stream's settings, from infra/pipeline.json (the topology the
//! CDK app deploys), with buffering overridable for local runs.

use serde::Deserialize;

use crate::LakeError;

/// infra/pipeline.json, embedded: the topology both the CDK app and we read.
pub const PIPELINE_JSON: &str = include_str!("../../../../infra/pipeline.json");

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

#[derive(Deserialize)]
struct Pipeline {
    lake: LakeSection,
}

#[derive(Deserialize)]
struct LakeSection {
    bucket: String,
    prefix: String,
    error_prefix: String,
    firehose: String,
    buffer_mb: usize,
    buffer_s: i64,
    glue_database: String,
    glue_table: String,
}

impl FirehoseConfig {
    /// The delivery stream of a pipeline.json document, as deployed (moto's
    /// account and us-east-1 for the ARNs in error documents).
    pub fn from_pipeline_json(text: &str) -> Result<Self, LakeError> {
        let p: Pipeline = serde_json::from_str(text)
            .map_err(|e| LakeError::Config(format!("pipeline.json lake section: {e}")))?;
        let (region, account_id) = ("us-east-1".to_string(), "123456789012".to_string());
        let l = p.lake;
        Ok(FirehoseConfig {
            lambda_arn: format!("arn:aws:lambda:{region}:{account_id}:function:firehose-transform"),
            delivery_stream_name: l.firehose,
            bucket: l.bucket,
            prefix: l.prefix,
            error_prefix: l.error_prefix,
            buffer_bytes: l.buffer_mb.max(DYNAMIC_PARTITIONING_MIN_BUFFER_MB) << 20,
            buffer_interval_ms: l.buffer_s * 1000,
            lambda_buffer_bytes: 1 << 20,
            lambda_retries: 3,
            region,
            account_id,
            glue_database: l.glue_database,
            glue_table: l.glue_table,
        })
    }

    /// The delivery stream of the embedded infra/pipeline.json.
    pub fn from_topology() -> Self {
        Self::from_pipeline_json(PIPELINE_JSON).expect("embedded pipeline.json is valid")
    }

    /// Overrides the buffering hints (the local demo flushes every few seconds).
    pub fn with_buffering(mut self, bytes: usize, interval_ms: i64) -> Self {
        self.buffer_bytes = bytes.max(1);
        self.buffer_interval_ms = interval_ms;
        self
    }
}
