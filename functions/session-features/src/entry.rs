//! The one entry point of the function: its configuration (from the
//! environment on Lambda, from explicit values locally), the handler built on
//! the AWS adapters, and `invoke` on the raw payload. main.rs, the local
//! runner and the bench all go through [`App::invoke`], so what runs locally
//! and in the bench is what runs in Lambda.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::streams::KinesisEventResponse;
use playback_aws::config::{parsed, required};
use playback_aws::emf::Metrics;
use playback_aws::features_store::DynamoFeatureStore;
use playback_aws::kinesis_batch::BatchPool;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_domain::ports::{DeadLetters, FeatureStore};
use playback_domain::Clock;
use playback_topology::Topology;

use crate::{BatchReport, SessionFeatures, SessionFeaturesError};

/// What one deployment of the function is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub features_table: String,
    pub poison_dlq_url: String,
    /// An item expires this long after the viewer's last event.
    pub ttl_days: i64,
    /// Where the EMF metrics go: stdout in Lambda, off elsewhere.
    pub metrics: Metrics,
}

impl Config {
    /// The Lambda's environment (README.md's table), read once at start-up.
    /// The CDK sets `FEATURES_TTL_DAYS` from pipeline.json; unset, the
    /// compiled-in copy's.
    pub fn from_env() -> Result<Self, SessionFeaturesError> {
        let env = SessionFeaturesError::Config;
        Ok(Config {
            metrics: Metrics::from_env(),
            features_table: required("FEATURES_TABLE").map_err(env)?,
            poison_dlq_url: required("POISON_DLQ_URL").map_err(env)?,
            ttl_days: parsed("FEATURES_TTL_DAYS", Topology::embedded()?.features.ttl_days)
                .map_err(env)?,
        })
    }
}

/// The handler and the payload buffers a warm Lambda keeps between invocations.
pub struct App<F, D> {
    pub handler: SessionFeatures<F, D>,
    pool: Arc<BatchPool>,
}

/// The function on its AWS adapters, as deployed.
pub type AwsApp = App<DynamoFeatureStore, SqsDeadLetters>;

/// The AWS clients, built once and lent to every invocation.
pub fn build(aws: &SdkConfig, cfg: Config) -> AwsApp {
    let ttl_secs = cfg.ttl_days * 86_400;
    App::new(SessionFeatures {
        store: DynamoFeatureStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            cfg.features_table,
            ttl_secs,
        ),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(aws), cfg.poison_dlq_url),
        metrics: cfg.metrics,
    })
}

impl<F: FeatureStore, D: DeadLetters> App<F, D> {
    pub fn new(handler: SessionFeatures<F, D>) -> Self {
        Self::with_pool(handler, Arc::default())
    }

    /// Shares the payload buffers (the bench builds a fresh handler per run
    /// and keeps the buffers warm, as Lambda does).
    pub fn with_pool(handler: SessionFeatures<F, D>, pool: Arc<BatchPool>) -> Self {
        App { handler, pool }
    }

    /// One invocation on the payload as Lambda hands it over (the raw JSON).
    /// Retriable failures are batch item failures in the response; a
    /// non-retriable one fails the invocation (`try_handle`).
    pub async fn invoke(
        &self,
        payload: &str,
    ) -> Result<(KinesisEventResponse, BatchReport), SessionFeaturesError> {
        self.invoke_at(payload, Clock::now()).await
    }

    /// [`App::invoke`] at a given clock (tests, the bench's fixed inputs).
    pub async fn invoke_at(
        &self,
        payload: &str,
        clock: Clock,
    ) -> Result<(KinesisEventResponse, BatchReport), SessionFeaturesError> {
        // Parsed in one pass into reused buffers: lambda_runtime's own
        // deserialiser records every JSON key for its error paths (~3x the CPU).
        let batch = (self.pool.parse(payload)).map_err(SessionFeaturesError::Payload)?;
        let result = self.handler.try_handle(&batch, clock).await;
        self.pool.recycle(batch);
        if let Ok((_, report)) = &result {
            tracing::info!(?report, "batch done");
        }
        result
    }
}
