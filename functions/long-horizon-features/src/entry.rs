//! The AWS adapters behind the ports and the Lambda entry point.

use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::QueryExecutionContext;
use lake::S3Store;
use playback_aws::emf::Metrics;
use playback_aws::features_store::DynamoFeatureStore;

use crate::{App, Config, JobError, QueryStarter};

/// Athena's StartQueryExecution in the workgroup; the state machine polls
/// GetQueryExecution (a Lambda waiting on a long UNLOAD would bill the wait).
pub struct Athena {
    pub client: aws_sdk_athena::Client,
    pub workgroup: String,
    pub database: String,
}

impl QueryStarter for Athena {
    async fn start(&self, sql: &str) -> Result<String, JobError> {
        let out = self
            .client
            .start_query_execution()
            .query_string(sql)
            .work_group(&self.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.database)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                JobError::Engine(format!("StartQueryExecution: {}", DisplayErrorContext(&e)))
            })?;
        out.query_execution_id()
            .map(str::to_string)
            .ok_or_else(|| JobError::Engine("StartQueryExecution returned no id".into()))
    }
}

pub type AwsApp = App<Athena, S3Store, DynamoFeatureStore>;

/// The clients, built once at cold start.
pub fn build(conf: &aws_config::SdkConfig, cfg: Config) -> AwsApp {
    let athena = Athena {
        client: aws_sdk_athena::Client::new(conf),
        workgroup: cfg.workgroup.clone(),
        database: cfg.database.clone(),
    };
    let objects = S3Store::new(playback_aws::s3_client(conf), cfg.bucket.clone());
    let store = DynamoFeatureStore::new(
        aws_sdk_dynamodb::Client::new(conf),
        cfg.features_table.clone(),
        cfg.ttl_days * 86_400,
    );
    App {
        athena,
        objects,
        store,
        cfg,
        metrics: Metrics::from_env(),
    }
}
