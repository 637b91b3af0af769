//! The lake landing: the [`FirehoseEmulator`] (transform, Parquet conversion,
//! dynamic partitioning, buffering, S3 delivery) as the sink of a stream
//! reader, the way the delivery stream reads the Kinesis stream on AWS.

use aws_config::SdkConfig;
use lake::{ObjectStore, S3Store};

use crate::esm::sink::{shared, RecordSink, SharedSink};
use crate::esm::StreamRecord;
use crate::firehose::{FirehoseConfig, FirehoseEmulator};
use crate::function::BoxFuture;
use crate::topology::Topology;
use crate::{Resources, Result};

pub struct FirehoseSink<S: ObjectStore> {
    pub emulator: FirehoseEmulator<S>,
}

impl<S: ObjectStore + 'static> RecordSink for FirehoseSink<S> {
    fn put<'a>(&'a mut self, records: &'a [StreamRecord]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let report = self.emulator.put(records).map_err(|e| e.to_string())?;
            if report.flush_needed {
                // Buffered already: a failed delivery is retried by the next flush.
                if let Err(e) = self.flush(Some(crate::now_ms())).await {
                    tracing::warn!(error = %e, "lake delivery failed; kept buffered");
                }
            }
            Ok(())
        })
    }

    fn flush_due(&mut self, now_ms: i64) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.flush(Some(now_ms)))
    }

    fn flush_all(&mut self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.flush(None))
    }

    fn delivered(&mut self) -> Vec<(String, String)> {
        self.emulator.delivered()
    }
}

impl<S: ObjectStore> FirehoseSink<S> {
    async fn flush(&mut self, now_ms: Option<i64>) -> Result<(), String> {
        let landed = match now_ms {
            Some(now) => self.emulator.flush_due(now).await,
            None => self.emulator.flush_all().await,
        }
        .map_err(|e| e.to_string())?;
        if !landed.is_empty() {
            // Objects written; the source's checkpoint not yet moved.
            crate::chaos::point("lake-landing").await;
        }
        Ok(())
    }
}

/// The delivery stream's settings from the (prefixed, overridden) topology.
pub fn firehose_config(t: &Topology, r: &Resources) -> Result<FirehoseConfig> {
    let mut cfg = FirehoseConfig::from_lake(&t.lake);
    cfg.region = r.region.clone();
    cfg.account_id = r.account.clone();
    cfg.lambda_arn = r.function_arn("firehose-transform");
    Ok(cfg)
}

/// The Firehose emulator delivering to the lake bucket on S3 (the emulator's).
pub fn s3_sink(aws: &SdkConfig, t: &Topology, r: &Resources) -> Result<SharedSink> {
    let store = S3Store::new(playback_aws::s3_client(aws), r.lake_bucket.clone());
    let emulator = FirehoseEmulator::new(firehose_config(t, r)?, store);
    Ok(shared(FirehoseSink { emulator }))
}
