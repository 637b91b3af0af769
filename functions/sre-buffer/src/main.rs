use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use playback_aws::config::{parsed, required};
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_aws::sre_store::DynamoSreStore;
use playback_domain::sre::SreRule;
use playback_domain::Clock;
use sre_buffer::SreBuffer;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let rule = SreRule {
        errors_per_minute: parsed("SRE_ERRORS_PER_MINUTE", 20)?,
        rebuffer_starts_per_minute: parsed("SRE_REBUFFER_STARTS_PER_MINUTE", 50)?,
    };
    let (table, dlq) = (required("SRE_TABLE")?, required("POISON_DLQ_URL")?);
    let aws = playback_aws::load_aws_config().await;
    let handler = SreBuffer {
        store: DynamoSreStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(&aws), dlq),
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
