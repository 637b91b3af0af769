//! `SreStore` on DynamoDB: minute buckets with atomic adds (`sig#<slice>`,
//! sk = the minute), and one current incident per slice and kind
//! (`inc#<slice>`, sk = kind), written by conditional puts and updates so
//! concurrent batches open it once. `SnsIncidentPager` pages the on-call topic.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use aws_sdk_sns::Client as Sns;
use playback_domain::event::format_rfc3339_ms;
use playback_domain::ports::{IncidentPager, PortError, PortResult, SreStore};
use playback_domain::sre::incident::{Incident, IncidentState};
use playback_domain::sre::{IncidentKind, SreCounts, SreKey};

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

fn counts_of(item: &Item) -> SreCounts {
    SreCounts {
        attempts: get_u64(item, "attempts"),
        fatal_errors: get_u64(item, "fatal_errors"),
        start_failures: get_u64(item, "start_failures"),
        rebuffer_starts: get_u64(item, "rebuffer_starts"),
        session_ms: get_u64(item, "session_ms"),
        events: get_u64(item, "events"),
    }
}

fn kind_of(s: &str) -> Option<IncidentKind> {
    IncidentKind::ALL.into_iter().find(|k| k.as_str() == s)
}

fn f64_of(item: &Item, k: &str) -> f64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn incident_item(i: &Incident) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(format!("inc#{}", i.key.dimensions()))),
        ("sk".into(), s(i.kind.as_str())),
        ("kind".into(), s(i.kind.as_str())),
        ("region".into(), s(&i.key.region)),
        ("device_platform".into(), s(&i.key.device_platform)),
        ("app_version".into(), s(&i.key.app_version)),
        ("opened_minute_ms".into(), n(i.key.minute_ms)),
        ("state".into(), s(state_str(i.state))),
        ("last_breach_minute_ms".into(), n(i.last_breach_minute_ms)),
        ("peak_rate".into(), n(i.peak_rate)),
        ("threshold".into(), n(i.threshold)),
        ("baseline_rate".into(), n(i.baseline_rate)),
        ("opened_at_ms".into(), n(i.opened_at_ms)),
        ("notified".into(), AttributeValue::Bool(i.notified)),
        (
            "expires_at".into(),
            n(i.last_breach_minute_ms / 1000 + KEEP_SECS),
        ),
    ]);
    if let Some(r) = i.resolved_minute_ms {
        item.insert("resolved_minute_ms".into(), n(r));
    }
    item
}

fn state_str(s: IncidentState) -> &'static str {
    match s {
        IncidentState::Open => "open",
        IncidentState::Resolved => "resolved",
    }
}

/// An incident item (`pk` = `inc#<slice>`) as the domain type.
pub fn incident_of(item: &Item) -> PortResult<Incident> {
    let kind = get_s(item, "kind")
        .as_deref()
        .and_then(kind_of)
        .ok_or_else(|| PortError::Corrupt("sre incident without a known kind".into()))?;
    let state = match get_s(item, "state").as_deref() {
        Some("open") => IncidentState::Open,
        Some("resolved") => IncidentState::Resolved,
        other => return Err(PortError::Corrupt(format!("sre incident state {other:?}"))),
    };
    Ok(Incident {
        key: SreKey {
            minute_ms: get_i64(item, "opened_minute_ms"),
            region: get_s(item, "region").unwrap_or_default(),
            device_platform: get_s(item, "device_platform").unwrap_or_default(),
            app_version: get_s(item, "app_version").unwrap_or_default(),
        },
        kind,
        state,
        last_breach_minute_ms: get_i64(item, "last_breach_minute_ms"),
        peak_rate: f64_of(item, "peak_rate"),
        threshold: f64_of(item, "threshold"),
        baseline_rate: f64_of(item, "baseline_rate"),
        opened_at_ms: get_i64(item, "opened_at_ms"),
        resolved_minute_ms: item
            .contains_key("resolved_minute_ms")
            .then(|| get_i64(item, "resolved_minute_ms")),
        notified: item
            .get("notified")
            .and_then(|v| v.as_bool().ok().copied())
            .unwrap_or(false),
    })
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
                "ADD attempts :a, fatal_errors :f, start_failures :sf, rebuffer_starts :r, \
                 session_ms :ms, events :n \
                 SET #region = :region, device_platform = :d, app_version = :v, expires_at = :exp",
            )
            .expression_attribute_names("#region", "region")
            .expression_attribute_values(":a", n(c.attempts))
            .expression_attribute_values(":f", n(c.fatal_errors))
            .expression_attribute_values(":sf", n(c.start_failures))
            .expression_attribute_values(":r", n(c.rebuffer_starts))
            .expression_attribute_values(":ms", n(c.session_ms))
            .expression_attribute_values(":n", n(c.events))
            .expression_attribute_values(":region", s(&key.region))
            .expression_attribute_values(":d", s(&key.device_platform))
            .expression_attribute_values(":v", s(&key.app_version))
            .expression_attribute_values(":exp", n(key.minute_ms / 1000 + KEEP_SECS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| port_error("sre.add", e))?;
        Ok(counts_of(&out.attributes.unwrap_or_default()))
    }

    async fn baseline(&self, key: &SreKey, minutes: u32) -> PortResult<SreCounts> {
        let from = format_rfc3339_ms(key.minus_minutes(minutes as i64).minute_ms);
        let to = format_rfc3339_ms(key.minus_minutes(1).minute_ms);
        // At most `minutes` small items: one page.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(format!("sig#{}", key.dimensions())))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .send()
            .await
            .map_err(|e| port_error("sre.baseline", e))?;
        let mut sum = SreCounts::default();
        for item in out.items.unwrap_or_default() {
            sum.add(counts_of(&item));
        }
        Ok(sum)
    }

    async fn incidents(&self, key: &SreKey) -> PortResult<Vec<Incident>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("inc#{}", key.dimensions())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("sre.incidents", e))?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(incident_of)
            .collect()
    }

    async fn open_incident(&self, i: &Incident) -> PortResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(incident_item(i)))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :resolved AND resolved_minute_ms < :m)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":resolved", s("resolved"))
            .expression_attribute_values(":m", n(i.key.minute_ms))
            .send()
            .await;
        conditional_written(res, "sre.open_incident")
    }

    /// Replaces the item if it is still the same open incident and this
    /// write does not move its last breach back (a concurrent batch that saw
    /// a later minute wins; its peak may then miss this batch's, a small loss
    /// accepted for one write per change).
    async fn update_incident(&self, i: &Incident) -> PortResult<bool> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(incident_item(i)))
            .condition_expression(
                "#state = :open AND opened_minute_ms = :o AND last_breach_minute_ms <= :l",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":o", n(i.key.minute_ms))
            .expression_attribute_values(":l", n(i.last_breach_minute_ms))
            .send()
            .await;
        conditional_written(res, "sre.update_incident")
    }
}

/// Pages the on-call SNS topic; without a topic (local runs) it only logs.
pub struct SnsIncidentPager {
    sns: Option<(Sns, String)>,
}

impl SnsIncidentPager {
    pub fn new(sns: Option<(Sns, String)>) -> Self {
        SnsIncidentPager { sns }
    }
}

impl IncidentPager for SnsIncidentPager {
    async fn page(&self, i: &Incident) -> PortResult<()> {
        let Some((sns, topic)) = &self.sns else {
            return Ok(());
        };
        let subject = format!("SRE {} {}", i.kind.as_str(), i.key.dimensions());
        crate::alerts::publish_json(sns, topic, &subject, i, "sre.page").await
    }
}
