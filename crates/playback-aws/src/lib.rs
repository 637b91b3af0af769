//! AWS side of the playback pipeline: DynamoDB, SQS and SNS adapters for the
//! domain ports, Lambda event-shape helpers, EMF metrics and env config.

pub mod alerts;
pub mod config;
pub mod dynamo;
pub mod emf;
pub mod error;
pub mod features_store;
pub mod kinesis_batch;
pub mod sqs_dead_letters;
pub mod sre_store;
pub mod windows_store;

pub use error::AwsError;

/// Loads the shared AWS config once: region, credentials and `AWS_ENDPOINT_URL`
/// (moto, LocalStack) all come from the standard environment.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
