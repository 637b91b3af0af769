use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let cfg = qoe_alerts::Config::from_env()?;
    let app = &qoe_alerts::build(&playback_aws::load_aws_config().await, cfg);
    // The raw payload: the entry point parses it (App::invoke_at says why).
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            Ok::<_, Error>(app.invoke(event.payload.get()).await?.0)
        },
    ))
    .await
}
