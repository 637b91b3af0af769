//! The one entry point of the function: its configuration (from the
//! environment on Lambda, from explicit values locally), the handler built on
//! the AWS adapters, and `invoke` on the raw payload. main.rs, the local
//! runner and the bench all go through [`App::invoke`], so what runs locally
//! and in the bench is what runs in Lambda.

use std::sync::Arc;

use aws_config::SdkConfig;
use playback_aws::alerts::DynamoSnsAlertSink;
use playback_aws::config::{optional, parsed, required};
use playback_aws::emf::Metrics;
use playback_aws::kinesis_batch::{BatchPool, WindowResponse};
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_aws::windows_store::DynamoWindowStore;
use playback_aws::AwsError;
use playback_domain::ports::{AlertSink, DeadLetters, WindowStore};
use playback_domain::qoe::AlertRule;
use playback_domain::Clock;
use playback_topology::Topology;

use crate::{FlushReport, QoeAlerts, QoeError};

/// What one deployment of the function is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub windows_table: String,
    pub alerts_table: String,
    pub poison_dlq_url: String,
    /// Paged for each new alert; None: alerts are only written.
    pub alerts_topic_arn: Option<String>,
    pub rule: AlertRule,
    /// Where the EMF metrics go: stdout in Lambda, off elsewhere.
    pub metrics: Metrics,
}

impl Config {
    /// The Lambda's environment (README.md's table), read once at start-up.
    /// The CDK sets every value from pipeline.json; unset `QOE_*` default to
    /// the compiled-in copy of it.
    pub fn from_env() -> Result<Self, QoeError> {
        let env = |e: AwsError| QoeError::Config(e);
        let deployed = Topology::embedded()?.alerts.rule();
        let rule = AlertRule {
            baseline_ratio: parsed("QOE_BASELINE_RATIO", deployed.baseline_ratio).map_err(env)?,
            margin: parsed("QOE_ALERT_MARGIN", deployed.margin).map_err(env)?,
            min_sessions: parsed("QOE_MIN_SESSIONS", deployed.min_sessions).map_err(env)?,
            min_sample_ms: parsed("QOE_MIN_SAMPLE_MS", deployed.min_sample_ms).map_err(env)?,
        };
        Ok(Config {
            metrics: Metrics::from_env(),
            windows_table: required("WINDOWS_TABLE").map_err(env)?,
            alerts_table: required("ALERTS_TABLE").map_err(env)?,
            poison_dlq_url: required("POISON_DLQ_URL").map_err(env)?,
            alerts_topic_arn: optional("ALERTS_TOPIC_ARN"),
            rule,
        })
    }
}

/// The handler and the payload buffers a warm Lambda keeps between invocations.
pub struct App<W, A, D> {
    pub handler: QoeAlerts<W, A, D>,
    pool: Arc<BatchPool>,
}

/// The function on its AWS adapters, as deployed.
pub type AwsApp = App<DynamoWindowStore, DynamoSnsAlertSink, SqsDeadLetters>;

/// The AWS clients, built once and lent to every invocation.
pub fn build(aws: &SdkConfig, cfg: Config) -> AwsApp {
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let sns = (cfg.alerts_topic_arn).map(|arn| (aws_sdk_sns::Client::new(aws), arn));
    App::new(QoeAlerts {
        windows: DynamoWindowStore::new(dynamo.clone(), cfg.windows_table),
        alerts: DynamoSnsAlertSink::new(dynamo, cfg.alerts_table, sns),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(aws), cfg.poison_dlq_url),
        rule: cfg.rule,
        metrics: cfg.metrics,
    })
}

impl<W: WindowStore, A: AlertSink, D: DeadLetters> App<W, A, D> {
    pub fn new(handler: QoeAlerts<W, A, D>) -> Self {
        Self::with_pool(handler, Arc::default())
    }

    /// Shares the payload buffers (the bench builds a fresh handler per run
    /// and keeps the buffers warm, as Lambda does).
    pub fn with_pool(handler: QoeAlerts<W, A, D>, pool: Arc<BatchPool>) -> Self {
        App { handler, pool }
    }

    /// One invocation on the payload as Lambda hands it over (the raw JSON).
    pub async fn invoke(&self, payload: &str) -> Result<(WindowResponse, FlushReport), QoeError> {
        self.invoke_at(payload, Clock::now()).await
    }

    /// [`App::invoke`] at a given clock (tests, the bench's fixed inputs).
    pub async fn invoke_at(
        &self,
        payload: &str,
        clock: Clock,
    ) -> Result<(WindowResponse, FlushReport), QoeError> {
        // Parsed in one pass into reused buffers: lambda_runtime's own
        // deserialiser records every JSON key for its error paths (~3x the CPU).
        let batch = self.pool.parse(payload).map_err(QoeError::Payload)?;
        let result = self.handler.handle(&batch, clock).await;
        self.pool.recycle(batch);
        result
    }
}
