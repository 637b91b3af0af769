//! The collector as a long-lived HTTP service (the Fargate host): the same
//! configuration as the Lambda (README.md's table) plus `COLLECTOR_ADDR`,
//! `PACK_LINGER_MS` and `PACK_KEYS` (records packed across viewers: `linger`),
//! `APP_RATE_LIMIT_RPS` and `APP_RATE_BURST` (per-app limits: `throttle`).
//! SIGTERM (ECS stopping the task) or Ctrl-C drains the requests in flight.

use std::sync::Arc;

use lambda_http::Error;
use tokio::signal::unix::{signal, SignalKind};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The Lambda runtime's subscriber: RUST_LOG, and JSON when AWS_LAMBDA_LOG_FORMAT=JSON.
    lambda_http::tracing::init_default_subscriber();
    let cfg = collector::Config::from_env()?;
    let addr = std::env::var("COLLECTOR_ADDR").unwrap_or_else(|_| "0.0.0.0:8080".into());
    let linger = collector::linger::LingerConfig::from_env()?;
    let aws = playback_aws::load_aws_config().await;
    // Unlike the Lambda, this process sees many players: it packs across them.
    let mut app = collector::build_lingering(&aws, cfg, linger);
    if let Some(t) = collector::throttle::AppThrottle::from_env()? {
        app.app_limit = Some(Arc::new(t));
    }
    let app = Arc::new(app);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("COLLECTOR_ADDR={addr}: bind: {e}"))?;
    tracing::info!(%addr, "collector serving");
    let mut term = signal(SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("shutting down: draining requests in flight");
    };
    collector::server::serve(listener, app, stop).await?;
    Ok(())
}
