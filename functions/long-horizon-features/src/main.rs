//! long-horizon-features Lambda: README.md says what it does and its settings.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let cfg = long_horizon_features::Config::from_env()?;
    let app = &long_horizon_features::entry::build(&playback_aws::load_aws_config().await, cfg);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(app.invoke(&event.payload, chrono::Utc::now()).await?)
    }))
    .await
}
