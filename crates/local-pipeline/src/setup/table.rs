//! DynamoDB tables of the topology, with their TTL attribute.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use backon::Retryable;
use playback_aws::retry;

use super::stream::READY_WITHIN;
use crate::topology::TableSpec;
use crate::{aws_err, error_code, Error, Result};

/// A key's type as the CDK app maps it: "N", else a string.
pub(super) fn scalar(ty: &Option<String>) -> ScalarAttributeType {
    match ty.as_deref() {
        Some("N") => ScalarAttributeType::N,
        _ => ScalarAttributeType::S,
    }
}

pub(super) async fn table(dynamo: &aws_sdk_dynamodb::Client, spec: &TableSpec) -> Result<()> {
    let attr = |name: &str, ty: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ty)
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    };
    let key = |name: &str, ty: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(ty)
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    };
    let mut req = dynamo
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(&spec.pk, scalar(&spec.pk_type))?)
        .key_schema(key(&spec.pk, KeyType::Hash)?);
    if let Some(sk) = &spec.sk {
        req = req
            .attribute_definitions(attr(sk, scalar(&spec.sk_type))?)
            .key_schema(key(sk, KeyType::Range)?);
    }
    if let Err(e) = req.send().await {
        if error_code(&e) != Some("ResourceInUseException") {
            return Err(aws_err("dynamodb.CreateTable")(e));
        }
    }
    let active = || async {
        let out = dynamo
            .describe_table()
            .table_name(&spec.name)
            .send()
            .await
            .map_err(aws_err("dynamodb.DescribeTable"))?;
        match out.table.and_then(|t| t.table_status) {
            Some(TableStatus::Active) => Ok(()),
            other => Err(Error::Timeout(format!("table {} ({other:?})", spec.name))),
        }
    };
    active
        .retry(retry::readiness(READY_WITHIN))
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Error::Timeout(_)))
        .await?;
    if let Some(ttl) = &spec.ttl {
        let spec_ttl = TimeToLiveSpecification::builder()
            .attribute_name(ttl)
            .enabled(true)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let r = dynamo
            .update_time_to_live()
            .table_name(&spec.name)
            .time_to_live_specification(spec_ttl)
            .send()
            .await;
        // Re-enabling is a ValidationException on AWS ("already enabled").
        if let Err(e) = r {
            if error_code(&e) != Some("ValidationException") {
                return Err(aws_err("dynamodb.UpdateTimeToLive")(e));
            }
        }
    }
    Ok(())
}
