//! The AWS adapters behind the ports and the Lambda entry point.

use lake::S3Store;
use playback_aws::athena::AthenaRunner;
use playback_aws::emf::Metrics;
use playback_aws::features_store::DynamoFeatureStore;

use crate::{App, Config, JobError, QueryStarter};

/// Athena's StartQueryExecution in the workgroup; the state machine polls
/// GetQueryExecution (a Lambda waiting on a long UNLOAD would bill the wait).
pub struct Athena(pub AthenaRunner);

impl QueryStarter for Athena {
    async fn start(&self, sql: &str) -> Result<String, JobError> {
        self.0
            .start(sql)
            .await
            .map_err(|e| JobError::Engine(e.to_string()))
    }
}

pub type AwsApp = App<Athena, S3Store, DynamoFeatureStore>;

/// The clients, built once at cold start.
pub fn build(conf: &aws_config::SdkConfig, cfg: Config) -> AwsApp {
    let athena = Athena(AthenaRunner::new(
        aws_sdk_athena::Client::new(conf),
        &cfg.workgroup,
        &cfg.database,
    ));
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
