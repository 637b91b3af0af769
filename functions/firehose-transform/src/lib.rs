//! firehose-transform: Firehose data-transformation Lambda of the lake path.
//!
//! Firehose de-aggregates producer-packed records (newline-delimited JSON)
//! before calling us, so a record is normally one event. Each valid event is
//! normalised into a lake row (JSON, converted to Parquet by Firehose) with
//! partition keys dt/hour of its arrival time; an invalid one is returned
//! `ProcessingFailed`, unchanged, so Firehose writes it under the error prefix.

use aws_lambda_events::event::firehose::{
    KinesisFirehoseResponse, KinesisFirehoseResponseRecord, KinesisFirehoseResponseRecordMetadata,
};
use base64::Engine;
use playback_domain::lake::{partition_of, Ingest, LakeRow};
use playback_domain::{decode_record, Clock, InvalidEvent};

pub const OK: &str = "Ok";
pub const PROCESSING_FAILED: &str = "ProcessingFailed";

/// Firehose's transformation event. Our own shape rather than
/// aws_lambda_events' because that one parses epoch millis through an f64 and
/// can land a millisecond early (…05.123 becomes …05.122), which matters at
/// an hour boundary of the lake partitions.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    pub invocation_id: Option<String>,
    pub delivery_stream_arn: Option<String>,
    pub records: Vec<FirehoseRecord>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    pub record_id: String,
    pub approximate_arrival_timestamp: i64,
    /// Base64, as Firehose sends it.
    pub data: String,
    pub kinesis_record_metadata: Option<KinesisMetadata>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisMetadata {
    pub shard_id: Option<String>,
    pub sequence_number: Option<String>,
    #[serde(default)]
    pub subsequence_number: i64,
    pub approximate_arrival_timestamp: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The invocation's payload is not a Firehose transformation event.
    #[error("payload: {0}")]
    Payload(serde_json::Error),
}

/// The function's one entry point (main.rs and the bench call it): no
/// settings, no AWS clients, the payload as Lambda hands it over.
#[derive(Debug, Default, Clone, Copy)]
pub struct App;

impl App {
    pub fn invoke(&self, payload: &str) -> Result<KinesisFirehoseResponse, TransformError> {
        self.invoke_at(payload, Clock::now())
    }

    /// [`App::invoke`] at a given clock (tests, the bench's fixed inputs).
    pub fn invoke_at(
        &self,
        payload: &str,
        clock: Clock,
    ) -> Result<KinesisFirehoseResponse, TransformError> {
        let event: FirehoseEvent =
            serde_json::from_str(payload).map_err(TransformError::Payload)?;
        Ok(transform(&event, clock))
    }
}

/// Transforms a whole invocation; never fails (every record gets a verdict).
pub fn transform(event: &FirehoseEvent, clock: Clock) -> KinesisFirehoseResponse {
    let mut resp = KinesisFirehoseResponse::default();
    resp.records = event
        .records
        .iter()
        .map(|r| transform_record(r, clock))
        .collect();
    resp
}

pub fn transform_record(r: &FirehoseRecord, clock: Clock) -> KinesisFirehoseResponseRecord {
    let meta = r.kinesis_record_metadata.as_ref();
    let arrival_ms = meta
        .and_then(|m| m.approximate_arrival_timestamp)
        .unwrap_or(r.approximate_arrival_timestamp);
    let mut out = KinesisFirehoseResponseRecord::default();
    out.record_id = Some(r.record_id.clone());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&r.data)
        .map_err(|e| {
            InvalidEvent::new(
                playback_domain::Reason::MalformedJson(format!("record is not base64: {e}")),
                None,
            )
        });
    match decoded.and_then(|data| rows_of(&data, meta, arrival_ms, clock)) {
        Ok(lines) => {
            let (dt, hour) = partition_of(arrival_ms);
            let mut m = KinesisFirehoseResponseRecordMetadata::default();
            m.partition_keys.insert("dt".into(), dt);
            m.partition_keys.insert("hour".into(), hour);
            out.metadata = m;
            out.result = Some(OK.into());
            *out.data = lines.into_bytes();
        }
        Err(invalid) => {
            tracing::warn!(record_id = ?r.record_id, reason = %invalid, code = invalid.reason.code(), "record refused");
            out.result = Some(PROCESSING_FAILED.into());
            *out.data = base64::engine::general_purpose::STANDARD
                .decode(&r.data)
                .unwrap_or_else(|_| r.data.clone().into_bytes());
        }
    }
    out
}

/// All events of the record as newline-terminated lake rows, or the first
/// reason one of them is invalid (a record is accepted or refused whole:
/// Firehose has one verdict per record).
fn rows_of(
    data: &[u8],
    meta: Option<&KinesisMetadata>,
    arrival_ms: i64,
    clock: Clock,
) -> Result<String, InvalidEvent> {
    let shard = meta.and_then(|m| m.shard_id.as_deref()).unwrap_or("");
    let seq = meta
        .and_then(|m| m.sequence_number.as_deref())
        .unwrap_or("");
    let sub_base = meta
        .map(|m| m.subsequence_number.max(0) as u32)
        .unwrap_or(0);
    let mut out = String::with_capacity(data.len() + 128);
    for d in decode_record(data, clock) {
        let event = d.result?;
        let ingest = Ingest {
            arrival_ms,
            shard_id: shard,
            sequence_number: seq,
            sub_index: sub_base + d.index,
        };
        out.push_str(
            &serde_json::to_string(&LakeRow::new(&event, &ingest)).expect("row serialises"),
        );
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FirehoseEvent {
        let path = format!(
            "{}/../../events/samples/firehose-transform.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The entry point main.rs and the bench call: the raw payload in.
    #[test]
    fn the_entry_point_takes_the_raw_payload() {
        let path = format!(
            "{}/../../events/samples/firehose-transform.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let raw = std::fs::read_to_string(path).unwrap();
        let clock = Clock::at(1_795_430_000_000);
        let resp = App.invoke_at(&raw, clock).unwrap();
        assert_eq!(resp, transform(&sample(), clock));
        let err = App.invoke_at(r#"{"records": {}}"#, clock).unwrap_err();
        assert!(matches!(err, TransformError::Payload(_)), "{err}");
    }

    #[test]
    fn valid_records_get_rows_and_partitions_invalid_ones_fail() {
        let resp = transform(&sample(), Clock::at(1_795_430_000_000));
        let results: Vec<_> = resp
            .records
            .iter()
            .map(|r| r.result.clone().unwrap())
            .collect();
        assert_eq!(results, [OK, OK, PROCESSING_FAILED]);
        let first = &resp.records[0];
        assert_eq!(first.metadata.partition_keys["dt"], "2026-11-23");
        assert_eq!(first.metadata.partition_keys["hour"], "10");
        let row: LakeRow = serde_json::from_slice(first.data.0.trim_ascii_end()).unwrap();
        assert_eq!(row.event_id, "e-1");
        assert_eq!(row.ingest_shard, "shardId-000000000001");
        assert_eq!(row.ingest_time, "2026-11-23T10:00:05.123Z");
        assert_eq!(row.event_time, "2026-11-23T10:00:01.000Z");
        let failed = &resp.records[2];
        let original = base64::engine::general_purpose::STANDARD
            .decode(&sample().records[2].data)
            .unwrap();
        assert_eq!(
            failed.data.0, original,
            "refused data is returned unchanged"
        );
        assert_eq!(resp.records[1].record_id.as_deref(), Some("r-1"));
    }

    #[test]
    fn a_record_over_the_500_event_cap_is_refused_as_oversized() {
        let mut ev = sample();
        let b64 = base64::engine::general_purpose::STANDARD;
        let one = String::from_utf8(b64.decode(&ev.records[0].data).unwrap()).unwrap();
        let over = vec![one.as_str(); playback_domain::event::MAX_EVENTS_PER_RECORD + 1];
        ev.records[0].data = b64.encode(over.join("\n"));
        let data = b64.decode(&ev.records[0].data).unwrap();
        let refused = rows_of(&data, None, 0, Clock::at(1_795_430_000_000)).unwrap_err();
        assert_eq!(refused.reason.code(), "oversized");
        let resp = transform(&ev, Clock::at(1_795_430_000_000));
        assert_eq!(resp.records[0].result.as_deref(), Some(PROCESSING_FAILED));
        assert_eq!(resp.records[0].data.0, data, "returned unchanged");
    }

    #[test]
    fn rows_carry_the_declared_schema_version_and_startup_ms() {
        let mut ev = sample();
        let b64 = base64::engine::general_purpose::STANDARD;
        let v1 = String::from_utf8(b64.decode(&ev.records[0].data).unwrap()).unwrap();
        let mut v2: serde_json::Value = serde_json::from_str(v1.trim()).unwrap();
        v2["schema_version"] = 2.into();
        v2["event_type"] = "session_start".into();
        v2["startup_ms"] = 1_350.into();
        ev.records[0].data = b64.encode(format!("{}\n{v1}", v2));
        let resp = transform(&ev, Clock::at(1_795_430_000_000));
        let text = String::from_utf8(resp.records[0].data.0.clone()).unwrap();
        let rows: Vec<LakeRow> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.schema_version, r.startup_ms))
            .collect();
        assert_eq!(got, [(2, Some(1_350)), (1, None)]);
    }

    #[test]
    fn a_packed_record_yields_one_row_per_line() {
        let mut ev = sample();
        let b64 = base64::engine::general_purpose::STANDARD;
        let a = String::from_utf8(b64.decode(&ev.records[0].data).unwrap()).unwrap();
        let b = String::from_utf8(b64.decode(&ev.records[1].data).unwrap()).unwrap();
        ev.records[0].data = b64.encode(format!("{a}\n{b}"));
        let resp = transform(&ev, Clock::at(1_795_430_000_000));
        let text = String::from_utf8(resp.records[0].data.0.clone()).unwrap();
        let subs: Vec<u32> = text
            .lines()
            .map(|l| serde_json::from_str::<LakeRow>(l).unwrap().ingest_sub)
            .collect();
        assert_eq!(subs, [0, 1]);
    }
}
