//! `SreStore` on DynamoDB: minute buckets with atomic adds (`sig#` items) and
//! incidents opened once per bucket and kind (`inc#` items).

use aws_sdk_dynamodb::types::ReturnValue;
use aws_sdk_dynamodb::Client;
use playback_domain::event::format_rfc3339_ms;
use playback_domain::ports::{PortResult, SreStore};
use playback_domain::sre::{Incident, SreCounts, SreKey};

use crate::dynamo::*;

const KEEP_SECS: i64 = 14 * 24 * 3600;

pub struct DynamoSreStore {
    client: Client,
    table: String,
}

impl DynamoSreStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoSreStore {
            client,
            table: table.into(),
        }
    }
}

impl SreStore for DynamoSreStore {
    async fn add(&self, key: &SreKey, c: SreCounts) -> PortResult<SreCounts> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("sig#{}", key.dimensions())))
            .key("sk", s(format_rfc3339_ms(key.minute_ms)))
            .update_expression(
                "ADD errors :e, rebuffer_starts :r, events :n \
                 SET #region = :region, device_platform = :d, app_version = :v, expires_at = :exp",
            )
            .expression_attribute_names("#region", "region")
            .expression_attribute_values(":e", n(c.errors))
            .expression_attribute_values(":r", n(c.rebuffer_starts))
            .expression_attribute_values(":n", n(c.events))
            .expression_attribute_values(":region", s(&key.region))
            .expression_attribute_values(":d", s(&key.device_platform))
            .expression_attribute_values(":v", s(&key.app_version))
            .expression_attribute_values(":exp", n(key.minute_ms / 1000 + KEEP_SECS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| port_error("sre.add", e))?;
        let item = out.attributes.unwrap_or_default();
        Ok(SreCounts {
            errors: get_u64(&item, "errors"),
            rebuffer_starts: get_u64(&item, "rebuffer_starts"),
            events: get_u64(&item, "events"),
        })
    }

    async fn open_incident(&self, i: &Incident) -> PortResult<bool> {
        let kind = serde_json::to_value(i.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("inc#{}", i.key.dimensions())))
            .item(
                "sk",
                s(format!("{}#{kind}", format_rfc3339_ms(i.key.minute_ms))),
            )
            .item("kind", s(&kind))
            .item("region", s(&i.key.region))
            .item("device_platform", s(&i.key.device_platform))
            .item("app_version", s(&i.key.app_version))
            .item("count", n(i.count))
            .item("threshold", n(i.threshold))
            .item("opened_at_ms", n(i.opened_at_ms))
            .item("expires_at", n(i.key.minute_ms / 1000 + KEEP_SECS))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(port_error("sre.open_incident", e)),
        }
    }
}
