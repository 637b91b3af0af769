//! The one entry point of the function: its configuration (from the
//! environment on Lambda, from explicit values locally), the handler built on
//! the AWS adapters, and `invoke` on the raw payload. main.rs and the local
//! runner go through [`App::invoke`], so what runs locally is what runs in
//! Lambda.

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use playback_aws::config::{optional, required};
use playback_aws::emf::Metrics;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_aws::sre_store::{DynamoSreStore, SnsIncidentPager};
use playback_domain::ports::{DeadLetters, IncidentPager, SreStore};
use playback_domain::sre::SreRule;
use playback_domain::Clock;
use playback_topology::Topology;

use crate::{BatchReport, SreBuffer, SreBufferError};

/// What one deployment of the function is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub sre_table: String,
    pub poison_dlq_url: String,
    /// Paged when an incident opens; None: incidents are only logged.
    pub alerts_topic_arn: Option<String>,
    pub rule: SreRule,
    /// Where the EMF metrics go: stdout in Lambda, off elsewhere.
    pub metrics: Metrics,
}

impl Config {
    /// The Lambda's environment (README.md's table), read once at start-up.
    /// `SRE_RULE` is the `sre` object of infra/pipeline.json as JSON (the CDK
    /// sets it); unset, the compiled-in copy's.
    pub fn from_env() -> Result<Self, SreBufferError> {
        let env = SreBufferError::Config;
        let rule: SreRule = match optional("SRE_RULE") {
            Some(json) => serde_json::from_str(&json).map_err(SreBufferError::Rule)?,
            None => Topology::embedded()?.sre,
        };
        Ok(Config {
            metrics: Metrics::from_env(),
            sre_table: required("SRE_TABLE").map_err(env)?,
            poison_dlq_url: required("POISON_DLQ_URL").map_err(env)?,
            alerts_topic_arn: optional("ALERTS_TOPIC_ARN"),
            rule,
        })
    }
}

/// The handler, as a warm Lambda keeps it between invocations.
pub struct App<S, D, P> {
    pub handler: SreBuffer<S, D, P>,
}

/// The function on its AWS adapters, as deployed.
pub type AwsApp = App<DynamoSreStore, SqsDeadLetters, SnsIncidentPager>;

/// The AWS clients, built once and lent to every invocation.
pub fn build(aws: &SdkConfig, cfg: Config) -> AwsApp {
    let sns = (cfg.alerts_topic_arn).map(|arn| (aws_sdk_sns::Client::new(aws), arn));
    App::new(SreBuffer {
        store: DynamoSreStore::new(aws_sdk_dynamodb::Client::new(aws), cfg.sre_table),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(aws), cfg.poison_dlq_url),
        pager: SnsIncidentPager::new(sns),
        rule: cfg.rule,
        metrics: cfg.metrics,
    })
}

impl<S: SreStore, D: DeadLetters, P: IncidentPager> App<S, D, P> {
    pub fn new(handler: SreBuffer<S, D, P>) -> Self {
        App { handler }
    }

    /// One invocation on the payload as Lambda hands it over (the raw JSON
    /// of an SQS event). Failed messages are batch item failures in the
    /// response; a non-retriable error fails the invocation (`try_handle`).
    pub async fn invoke(
        &self,
        payload: &str,
    ) -> Result<(SqsBatchResponse, BatchReport), SreBufferError> {
        self.invoke_at(payload, Clock::now()).await
    }

    /// [`App::invoke`] at a given clock (tests).
    pub async fn invoke_at(
        &self,
        payload: &str,
        clock: Clock,
    ) -> Result<(SqsBatchResponse, BatchReport), SreBufferError> {
        let event: SqsEvent = serde_json::from_str(payload).map_err(SreBufferError::Payload)?;
        let (response, report) = self.handler.try_handle(&event, clock).await?;
        tracing::info!(
            events = report.events,
            dead = report.dead_letters,
            failed = report.failed_messages,
            "batch done"
        );
        Ok((response, report))
    }
}
