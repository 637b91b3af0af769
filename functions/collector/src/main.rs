use lambda_http::{service_fn, Error, Request};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let cfg = collector::Config::from_env()?;
    let app = &collector::build(&playback_aws::load_aws_config().await, cfg);
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(collector::lambda::respond(app, req).await)
    }))
    .await
}
