//! The raw lake row: what the firehose-transform emits as JSON (Firehose turns
//! it into Parquet with the Glue schema) and what the local landing writes as
//! Parquet directly. Its columns are events/lake-columns.json; a test keeps
//! the two in step.

use serde::{Deserialize, Serialize};

use crate::event::{format_rfc3339_ms, PlaybackEvent};
use crate::metrics::utc_day_hour;

/// Where and when the stream received the event (Kinesis record metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingest<'a> {
    pub arrival_ms: i64,
    pub shard_id: &'a str,
    pub sequence_number: &'a str,
    pub sub_index: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeRow {
    pub event_id: String,
    pub event_type: String,
    /// RFC 3339 UTC with milliseconds (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`).
    pub event_time: String,
    pub viewer_id: String,
    pub session_id: String,
    pub title_id: String,
    pub region: String,
    pub watched_ms: Option<i64>,
    pub stalled_ms: Option<i64>,
    pub bitrate_kbps: Option<i64>,
    pub position_ms: Option<i64>,
    pub device_platform: Option<String>,
    pub app_version: Option<String>,
    pub error_code: Option<String>,
    /// Since schema_version 2 (absent in older files: read as null).
    pub startup_ms: Option<i64>,
    pub schema_version: u32,
    pub ingest_time: String,
    pub ingest_shard: String,
    pub ingest_seq: String,
    pub ingest_sub: u32,
}

/// Lake partition (dt, hour) of an arrival time: ingest-time partitioning, so a
/// late event lands in the partition of the day it arrived and is found by the
/// next royalty close without rescanning old days.
pub fn partition_of(arrival_ms: i64) -> (String, String) {
    utc_day_hour(arrival_ms)
}

impl LakeRow {
    pub fn new(e: &PlaybackEvent<'_>, ingest: &Ingest<'_>) -> Self {
        let own = |s: &Option<std::borrow::Cow<'_, str>>| s.as_ref().map(|v| v.to_string());
        LakeRow {
            event_id: e.event_id.to_string(),
            event_type: e.event_type.as_str().to_string(),
            event_time: format_rfc3339_ms(e.event_time_ms),
            viewer_id: e.viewer_id.to_string(),
            session_id: e.session_id.to_string(),
            title_id: e.title_id.to_string(),
            region: e.region.to_string(),
            watched_ms: e.watched_ms,
            stalled_ms: e.stalled_ms,
            bitrate_kbps: e.bitrate_kbps,
            position_ms: e.position_ms,
            device_platform: own(&e.device_platform),
            app_version: own(&e.app_version),
            error_code: own(&e.error_code),
            startup_ms: e.startup_ms,
            schema_version: e.schema_version,
            ingest_time: format_rfc3339_ms(ingest.arrival_ms),
            ingest_shard: ingest.shard_id.to_string(),
            ingest_seq: ingest.sequence_number.to_string(),
            ingest_sub: ingest.sub_index,
        }
    }

    /// Column names in declaration order (must equal events/lake-columns.json).
    pub fn column_names() -> Vec<String> {
        let probe = LakeRow::default();
        // serde_json keeps declaration order only with preserve_order; walk the
        // serialised text instead, which is in declaration order.
        let text = serde_json::to_string(&probe).expect("row serialises");
        text.trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter_map(|kv| kv.split(':').next())
            .map(|k| k.trim_matches('"').to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_match_the_published_lake_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/lake-columns.json"
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let published: Vec<String> = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(LakeRow::column_names(), published);
    }
}
