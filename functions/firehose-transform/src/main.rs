use lambda_runtime::{service_fn, Error, LambdaEvent};
use playback_domain::Clock;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<firehose_transform::FirehoseEvent>| async move {
            Ok::<_, Error>(firehose_transform::transform(&event.payload, Clock::now()))
        },
    ))
    .await
}
