use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use playback_aws::config::{optional, required};
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_aws::sre_store::{DynamoSreStore, SnsIncidentPager};
use playback_domain::sre::SreRule;
use playback_domain::Clock;
use playback_topology::Topology;
use sre_buffer::SreBuffer;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    // The `sre` object of infra/pipeline.json, as JSON (CDK sets it); unset,
    // the compiled-in copy's.
    let rule: SreRule = match optional("SRE_RULE") {
        Some(json) => serde_json::from_str(&json).map_err(|e| format!("SRE_RULE: {e}"))?,
        None => Topology::embedded()?.sre,
    };
    let (table, dlq) = (required("SRE_TABLE")?, required("POISON_DLQ_URL")?);
    let aws = playback_aws::load_aws_config().await;
    let sns = optional("ALERTS_TOPIC_ARN").map(|t| (aws_sdk_sns::Client::new(&aws), t));
    let handler = SreBuffer {
        store: DynamoSreStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(&aws), dlq),
        pager: SnsIncidentPager::new(sns),
        rule,
    };
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let (response, report) = handler.try_handle(&event.payload, Clock::now()).await?;
        tracing::info!(
            events = report.events,
            dead = report.dead_letters,
            failed = report.failed_messages,
            "batch done"
        );
        Ok::<_, Error>(response)
    }))
    .await
}
