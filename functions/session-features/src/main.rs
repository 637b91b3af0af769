use lambda_runtime::{service_fn, Error, LambdaEvent};
use playback_aws::config::{parsed, required};
use playback_aws::features_store::DynamoFeatureStore;
use playback_aws::kinesis_batch::BatchPool;
use playback_aws::sqs_dead_letters::SqsDeadLetters;
use playback_domain::Clock;
use playback_topology::Topology;
use serde_json::value::RawValue;
use session_features::SessionFeatures;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("FEATURES_TABLE")?;
    let dlq = required("POISON_DLQ_URL")?;
    // The CDK sets it from pipeline.json; unset, the compiled-in copy's.
    let ttl_days: i64 = parsed("FEATURES_TTL_DAYS", Topology::embedded()?.features.ttl_days)?;
    let aws = playback_aws::load_aws_config().await;
    let handler = SessionFeatures {
        store: DynamoFeatureStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            table,
            ttl_days * 86_400,
        ),
        dead_letters: SqsDeadLetters::new(aws_sdk_sqs::Client::new(&aws), dlq),
    };
    let handler = &handler;
    let pool = &BatchPool::default();
    // The raw payload, parsed in one pass into reused buffers: lambda_runtime's
    // own deserialiser records every JSON key for its error paths (~3x the CPU).
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let batch = pool.parse(event.payload.get())?;
            let (response, report) = handler.try_handle(&batch, Clock::now()).await?;
            pool.recycle(batch);
            tracing::info!(?report, "batch done");
            Ok::<_, Error>(response)
        },
    ))
    .await
}
