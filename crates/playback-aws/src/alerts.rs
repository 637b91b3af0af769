//! `AlertSink` on DynamoDB (one item per title x region x window, by a
//! conditional put) plus SNS paging. The item carries `notified`, so a crash
//! between the put and the publish pages on retry instead of never.

use aws_sdk_dynamodb::Client as Dynamo;
use aws_sdk_sns::Client as Sns;
use playback_domain::ports::{AlertSink, PortError, PortResult};
use playback_domain::qoe::Alert;

use crate::dynamo::*;
use crate::windows_store::title_region_key;

const KEEP_SECS: i64 = 30 * 24 * 3600;

/// Pages a topic with `body` as JSON; SNS caps a subject at 100 characters.
pub async fn publish_json<T: serde::Serialize>(
    sns: &Sns,
    topic: &str,
    subject: &str,
    body: &T,
    operation: &'static str,
) -> PortResult<()> {
    let message = serde_json::to_string(body).map_err(|e| PortError::Corrupt(e.to_string()))?;
    sns.publish()
        .topic_arn(topic)
        .subject(subject.chars().take(100).collect::<String>())
        .message(message)
        .send()
        .await
        .map_err(|e| port_error(operation, e))?;
    Ok(())
}

pub struct DynamoSnsAlertSink {
    dynamo: Dynamo,
    table: String,
    sns: Option<(Sns, String)>,
}

impl DynamoSnsAlertSink {
    pub fn new(dynamo: Dynamo, table: impl Into<String>, sns: Option<(Sns, String)>) -> Self {
        DynamoSnsAlertSink {
            dynamo,
            table: table.into(),
            sns,
        }
    }

    fn item(a: &Alert) -> Item {
        Item::from([
            (
                "title_region".into(),
                s(title_region_key(&a.title_id, &a.region)),
            ),
            ("window_start".into(), n(a.window.start_ms)),
            ("window_end".into(), n(a.window.end_ms)),
            ("title_id".into(), s(&a.title_id)),
            ("region".into(), s(&a.region)),
            ("ratio".into(), n(a.ratio)),
            ("baseline_ratio".into(), n(a.baseline_ratio)),
            ("threshold".into(), n(a.threshold)),
            ("watched_ms".into(), n(a.totals.watched_ms)),
            ("stalled_ms".into(), n(a.totals.stalled_ms)),
            ("sessions".into(), n(a.totals.sessions)),
            ("viewers".into(), n(a.totals.viewers)),
            ("raised_at_ms".into(), n(a.raised_at_ms)),
            (
                "notified".into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(false),
            ),
            ("expires_at".into(), n(a.window.end_ms / 1000 + KEEP_SECS)),
        ])
    }

    async fn already_notified(&self, a: &Alert) -> PortResult<bool> {
        let resp = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .key("title_region", s(title_region_key(&a.title_id, &a.region)))
            .key("window_start", n(a.window.start_ms))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("alerts.read", e))?;
        Ok(resp
            .item
            .and_then(|i| i.get("notified").and_then(|v| v.as_bool().ok().copied()))
            .unwrap_or(false))
    }

    async fn notify(&self, a: &Alert) -> PortResult<()> {
        if let Some((sns, topic)) = &self.sns {
            let subject = format!("Rebuffering alert {} {}", a.title_id, a.region);
            publish_json(sns, topic, &subject, a, "alerts.publish").await?;
        }
        self.dynamo
            .update_item()
            .table_name(&self.table)
            .key("title_region", s(title_region_key(&a.title_id, &a.region)))
            .key("window_start", n(a.window.start_ms))
            .update_expression("SET notified = :t")
            .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| port_error("alerts.mark_notified", e))?;
        Ok(())
    }
}

impl AlertSink for DynamoSnsAlertSink {
    async fn raise(&self, a: &Alert) -> PortResult<bool> {
        let put = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(a)))
            .condition_expression("attribute_not_exists(title_region)")
            .send()
            .await;
        let new = match put {
            Ok(_) => true,
            Err(e) if is_conditional_failure(&e) => {
                if self.already_notified(a).await? {
                    return Ok(false);
                }
                false
            }
            Err(e) => return Err(port_error("alerts.put", e)),
        };
        self.notify(a).await?;
        Ok(new)
    }
}
