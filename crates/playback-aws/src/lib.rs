//! AWS side of the playback pipeline: DynamoDB, SQS and SNS adapters for the
//! domain ports, Lambda event-shape helpers, EMF metrics and env config; the
//! error classification, retry policy and S3 client the whole workspace uses.

pub mod alerts;
pub mod athena;
pub mod classify;
pub mod config;
pub mod dynamo;
pub mod emf;
pub mod error;
pub mod fail_fast;
pub mod features_store;
pub mod kinesis_batch;
pub mod long_horizon_store;
pub mod retry;
pub mod sqs_batch;
pub mod sqs_dead_letters;
pub mod sre_store;
pub mod update;
pub mod windows_store;

pub use error::AwsError;

/// Loads the shared AWS config once: region, credentials and `AWS_ENDPOINT_URL`
/// (moto, LocalStack) all come from the standard environment.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The workspace's one S3 client: path-style requests (`host/bucket/key`)
/// whenever an endpoint URL is configured (moto, LocalStack, MinIO). The SDK
/// chooses path style by itself only for IP endpoints, so `localhost:4566`
/// would get `bucket.localhost` requests, which LocalStack cannot answer.
pub fn s3_client(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(conf)
        .force_path_style(conf.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

#[cfg(test)]
mod s3_tests;
