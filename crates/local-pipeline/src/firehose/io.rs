//! Pure pieces of the Firehose emulation: de-aggregation, the Lambda response
//! contract, format conversion of the returned JSON, error-output documents
//! and object keys. No I/O, no state.

use std::collections::HashMap;

use aws_lambda_events::event::firehose::KinesisFirehoseResponse;
use base64::Engine;
use chrono::{TimeZone, Utc};
use firehose_transform::{FirehoseRecord, KinesisMetadata};
use playback_domain::event::MAX_EVENTS_PER_RECORD;
use playback_domain::lake::LakeRow;
use serde::Serialize;

use super::FirehoseConfig;
use lake::parquet_io::parse_timestamp;

pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Splits a Kinesis record like Firehose's JSON de-aggregation: one Firehose
/// record per non-blank line. Firehose splits at most 500 sub-records per
/// record ("Record deaggregation by JSON or by delimiter is capped at 500 per
/// record"); past that it does not de-aggregate, so the record is passed whole
/// and the transform refuses it (`oversized`) to the error output, as a record
/// with no line is.
pub(crate) fn deaggregate(data: &[u8]) -> Vec<&[u8]> {
    let lines: Vec<&[u8]> = match std::str::from_utf8(data) {
        Ok(text) => text
            .split('\n')
            .map(|l| l.trim().as_bytes())
            .filter(|l| !l.is_empty())
            .collect(),
        Err(_) => data
            .split(|b| *b == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty())
            .collect(),
    };
    if lines.is_empty() || lines.len() > MAX_EVENTS_PER_RECORD {
        vec![data]
    } else {
        lines
    }
}

/// The Firehose record of one de-aggregated line. Every sub-record carries
/// its source Kinesis record's metadata as is: `subsequenceNumber` is the
/// KPL aggregation index, 0 for records the KPL did not aggregate (ours), so
/// the transform cannot tell the lines of one record apart by it and the lake
/// keeps their order as row order (backfill::replay relies on that).
pub(crate) fn firehose_record(
    record_id: String,
    line: &[u8],
    rec: &super::StreamRecord,
) -> FirehoseRecord {
    FirehoseRecord {
        record_id,
        approximate_arrival_timestamp: rec.arrival_ms,
        data: B64.encode(line),
        kinesis_record_metadata: Some(KinesisMetadata {
            shard_id: Some(rec.shard_id.clone()),
            sequence_number: Some(rec.sequence_number.clone()),
            subsequence_number: 0,
            approximate_arrival_timestamp: Some(rec.arrival_ms),
        }),
    }
}

/// Splits records into Lambda invocations of at most `max_bytes` of payload
/// (base64 data), at least one record each.
pub(crate) fn invocation_chunks(
    records: &[FirehoseRecord],
    max_bytes: usize,
) -> Vec<&[FirehoseRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, r) in records.iter().enumerate() {
        if i > start && size + r.data.len() > max_bytes {
            chunks.push(&records[start..i]);
            (start, size) = (i, 0);
        }
        size += r.data.len();
    }
    if start < records.len() {
        chunks.push(&records[start..]);
    }
    chunks
}

/// Firehose's checks on a transform response: every recordId of the
/// invocation answered exactly once with a known result. Gives, for each sent
/// record, the index of its answer; the error is the (errorCode,
/// errorMessage) the whole invocation fails with.
pub(crate) fn check_response(
    sent: &[FirehoseRecord],
    resp: &KinesisFirehoseResponse,
) -> Result<Vec<usize>, (String, String)> {
    let fail = |code: &str, msg: String| Err((code.to_string(), msg));
    let mut answered = HashMap::with_capacity(resp.records.len());
    for (i, r) in resp.records.iter().enumerate() {
        let Some(id) = r.record_id.as_deref() else {
            return fail(
                "Lambda.MissingRecordId",
                "A returned record has no recordId.".into(),
            );
        };
        if answered.insert(id, i).is_some() {
            return fail(
                "Lambda.DuplicatedRecordId",
                format!("Multiple records were returned with the same record Id {id}."),
            );
        }
        match r.result.as_deref() {
            Some("Ok" | "Dropped" | "ProcessingFailed") => {}
            other => {
                return fail(
                    "Lambda.InvalidOutput",
                    format!(
                    "Record {id} has result {other:?}; expected Ok, Dropped or ProcessingFailed."
                ),
                )
            }
        }
    }
    let order: Option<Vec<usize>> = sent
        .iter()
        .map(|s| answered.get(s.record_id.as_str()).copied())
        .collect();
    match order {
        Some(order) if answered.len() == sent.len() => Ok(order),
        _ => fail(
            "Lambda.MissingRecordId",
            "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.".into(),
        ),
    }
}

/// Format conversion of an Ok record's data against the lake schema (what the
/// Hive JSON SerDe + Glue table do on AWS). One verdict per record, as
/// Firehose has: the error is (errorCode, errorMessage).
pub(crate) fn convert(data: &[u8]) -> Result<Vec<LakeRow>, (String, String)> {
    let malformed = |msg: String| ("DataFormatConversion.MalformedData".to_string(), msg);
    let text = std::str::from_utf8(data)
        .map_err(|e| malformed(format!("The record is not UTF-8: {e}")))?;
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let row: LakeRow = serde_json::from_str(line)
            .map_err(|e| malformed(format!("The record does not fit the table schema: {e}")))?;
        for (col, v) in [
            ("event_time", &row.event_time),
            ("ingest_time", &row.ingest_time),
        ] {
            parse_timestamp(col, v).map_err(|e| malformed(e.to_string()))?;
        }
        for (col, v) in [
            ("schema_version", row.schema_version),
            ("ingest_sub", row.ingest_sub),
        ] {
            if i32::try_from(v).is_err() {
                return Err(malformed(format!("{col} {v} does not fit int")));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(malformed(
            "The record was empty or contained only whitespace.".into(),
        ));
    }
    Ok(rows)
}

/// A document of the processing-failed error output (Firehose developer
/// guide, "Handle failure in data transformation").
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProcessingFailedLine<'a> {
    pub attempts_made: u32,
    pub arrival_timestamp: i64,
    pub error_code: &'a str,
    pub error_message: &'a str,
    pub attempt_ending_timestamp: i64,
    pub raw_data: &'a str,
    pub lambda_arn: &'a str,
}

/// A document of the format-conversion-failed error output. The guide lists
/// `ErrorCode`/`ErrorMessage`; objects Firehose actually writes carry
/// `lastErrorCode`/`lastErrorMessage`, which is what we emit.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConversionFailedLine<'a> {
    pub attempts_made: u32,
    pub arrival_timestamp: i64,
    pub last_error_code: &'a str,
    pub last_error_message: &'a str,
    pub attempt_ending_timestamp: i64,
    pub raw_data: String,
    pub sequence_number: &'a str,
    pub sub_sequence_number: i64,
    pub data_catalog_table: CatalogTable<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogTable<'a> {
    pub catalog_id: &'a str,
    pub database_name: &'a str,
    pub table_name: &'a str,
    pub region: &'a str,
    pub version_id: &'a str,
    pub catalog_arn: String,
}

fn to_line(doc: &impl Serialize) -> String {
    serde_json::to_string(doc).expect("error document serialises")
}

pub(crate) fn processing_failed_line(
    cfg: &FirehoseConfig,
    r: &FirehoseRecord,
    attempts: u32,
    code: &str,
    msg: &str,
    now_ms: i64,
) -> String {
    to_line(&ProcessingFailedLine {
        attempts_made: attempts,
        arrival_timestamp: r.approximate_arrival_timestamp,
        error_code: code,
        error_message: msg,
        attempt_ending_timestamp: now_ms,
        raw_data: &r.data,
        lambda_arn: &cfg.lambda_arn,
    })
}

/// `data` is the transformed record (what the conversion could not read).
pub(crate) fn conversion_failed_line(
    c: &FirehoseConfig,
    r: &FirehoseRecord,
    data: &[u8],
    code: &str,
    msg: &str,
    now_ms: i64,
) -> String {
    let meta = r.kinesis_record_metadata.clone().unwrap_or_default();
    to_line(&ConversionFailedLine {
        attempts_made: 1,
        arrival_timestamp: r.approximate_arrival_timestamp,
        last_error_code: code,
        last_error_message: msg,
        attempt_ending_timestamp: now_ms,
        raw_data: B64.encode(data),
        sequence_number: meta.sequence_number.as_deref().unwrap_or(""),
        sub_sequence_number: meta.subsequence_number,
        data_catalog_table: CatalogTable {
            catalog_id: &c.account_id,
            database_name: &c.glue_database,
            table_name: &c.glue_table,
            region: &c.region,
            version_id: "LATEST",
            catalog_arn: format!("arn:aws:glue:{}:{}:catalog", c.region, c.account_id),
        },
    })
}

/// Firehose's object name: `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random>`,
/// the time being the arrival of the oldest record in the object.
pub(crate) fn object_name(stream: &str, version: u32, oldest_arrival_ms: i64) -> String {
    let t = Utc
        .timestamp_millis_opt(oldest_arrival_ms)
        .single()
        .unwrap_or_default();
    let r: u128 = rand::random();
    let h = format!("{r:032x}");
    format!(
        "{stream}-{version}-{}-{}-{}-4{}-{}-{}",
        t.format("%Y-%m-%d-%H-%M-%S"),
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..]
    )
}

/// UTC day (`yyyy-MM-dd`) of an instant: the `!{timestamp:yyyy-MM-dd}` of the
/// error output prefix.
pub(crate) fn utc_day(ms: i64) -> String {
    playback_domain::lake::partition_of(ms).0
}
