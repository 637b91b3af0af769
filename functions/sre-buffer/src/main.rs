use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let cfg = sre_buffer::Config::from_env()?;
    let app = &sre_buffer::build(&playback_aws::load_aws_config().await, cfg);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            Ok::<_, Error>(app.invoke(event.payload.get()).await?.0)
        },
    ))
    .await
}
