use lambda_runtime::{service_fn, Error, LambdaEvent};
use playback_aws::alerts::DynamoSnsAlertSink;
use playback_aws::config::{optional, parsed, required};
use playback_aws::kinesis_batch::BatchPool;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_aws::windows_store::DynamoWindowStore;
use playback_domain::qoe::AlertRule;
use playback_domain::Clock;
use playback_topology::Topology;
use qoe_alerts::QoeAlerts;
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // The CDK sets every value from pipeline.json; unset ones default to the
    // compiled-in copy of it.
    let deployed = Topology::embedded()?.alerts.rule();
    let rule = AlertRule {
        baseline_ratio: parsed("QOE_BASELINE_RATIO", deployed.baseline_ratio)?,
        margin: parsed("QOE_ALERT_MARGIN", deployed.margin)?,
        min_sessions: parsed("QOE_MIN_SESSIONS", deployed.min_sessions)?,
        min_sample_ms: parsed("QOE_MIN_SAMPLE_MS", deployed.min_sample_ms)?,
    };
    let (windows, alerts, dlq) = (
        required("WINDOWS_TABLE")?,
        required("ALERTS_TABLE")?,
        required("POISON_DLQ_URL")?,
    );
    let aws = playback_aws::load_aws_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    let sns = optional("ALERTS_TOPIC_ARN").map(|t| (aws_sdk_sns::Client::new(&aws), t));
    let handler = QoeAlerts {
        windows: DynamoWindowStore::new(dynamo.clone(), windows),
        alerts: DynamoSnsAlertSink::new(dynamo, alerts, sns),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(&aws), dlq),
        rule,
    };
    let handler = &handler;
    let pool = &BatchPool::default();
    // The raw payload, parsed in one pass into reused buffers: lambda_runtime's
    // own deserialiser records every JSON key for its error paths (~3x the CPU).
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let batch = pool.parse(event.payload.get())?;
            let (response, _) = handler.handle(&batch, Clock::now()).await?;
            pool.recycle(batch);
            Ok::<_, Error>(response)
        },
    ))
    .await
}
