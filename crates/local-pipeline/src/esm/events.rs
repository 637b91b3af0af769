//! The event JSON Lambda hands a function, field for field, and the reading
//! of the function's answer the way Lambda reads it.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{cmp_seq, StreamRecord};

/// Where the records come from, as stamped on every Kinesis record.
#[derive(Debug, Clone)]
pub struct KinesisSource {
    pub region: String,
    /// The consumer's ARN for an enhanced fan-out mapping, else the stream's.
    pub event_source_arn: String,
    pub invoke_identity_arn: String,
}

pub fn kinesis_record(r: &StreamRecord, src: &KinesisSource) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(&r.data);
    // Seconds with millisecond precision, as a JSON number (1545084650.987).
    let arrival = serde_json::Number::from_f64(r.arrival_ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null);
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": r.sequence_number,
            "data": b64,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("{}:{}", r.shard_id, r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": src.invoke_identity_arn,
        "awsRegion": src.region,
        "eventSourceARN": src.event_source_arn,
    })
}

pub fn kinesis_event(records: &[StreamRecord], src: &KinesisSource) -> Value {
    let records: Vec<Value> = records.iter().map(|r| kinesis_record(r, src)).collect();
    json!({ "Records": records })
}

/// The tumbling-window fields Lambda adds next to `Records`.
pub struct WindowFields<'a> {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: &'a Map<String, Value>,
    pub shard_id: &'a str,
    pub is_final: bool,
    pub terminated_early: bool,
}

pub fn kinesis_window_event(
    records: &[StreamRecord],
    src: &KinesisSource,
    w: &WindowFields<'_>,
) -> Value {
    let mut event = kinesis_event(records, src);
    let obj = event.as_object_mut().expect("object");
    obj.insert(
        "window".into(),
        json!({ "start": rfc3339(w.start_ms), "end": rfc3339(w.end_ms) }),
    );
    obj.insert("state".into(), Value::Object(w.state.clone()));
    obj.insert("shardId".into(), w.shard_id.into());
    obj.insert("eventSourceARN".into(), src.event_source_arn.clone().into());
    obj.insert("isFinalInvokeForWindow".into(), w.is_final.into());
    obj.insert("isWindowTerminatedEarly".into(), w.terminated_early.into());
    event
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a stream function answered, as Lambda understands it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamAnswer {
    /// Every record processed (`state` for tumbling windows).
    Success { state: Option<Map<String, Value>> },
    /// Processed up to, not including, the record at `index` of the batch.
    Partial {
        index: usize,
        state: Option<Map<String, Value>>,
    },
    /// Treated as a failure of the whole batch (bad identifiers, missing state).
    Invalid(String),
}

/// Reads `batchItemFailures`: null, absent or empty is success; the lowest
/// sequence number reported is where processing resumes; an identifier that
/// is empty, null or not in the batch fails the whole batch.
pub fn read_stream_answer(
    answer: &Value,
    batch: &[StreamRecord],
    needs_state: bool,
) -> StreamAnswer {
    let state = answer.get("state").and_then(Value::as_object).cloned();
    if needs_state && state.is_none() {
        return StreamAnswer::Invalid("the response of a window invocation has no state".into());
    }
    let failures = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return StreamAnswer::Success { state },
        Some(Value::Array(items)) => items,
        Some(other) => return StreamAnswer::Invalid(format!("batchItemFailures is {other}")),
    };
    let mut lowest: Option<usize> = None;
    for item in failures {
        let Some(id) = item
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return StreamAnswer::Invalid(format!("bad batch item failure {item}"));
        };
        let same = |r: &&StreamRecord| cmp_seq(&r.sequence_number, id).is_eq();
        let Some(index) = batch.iter().position(|r| same(&r)) else {
            return StreamAnswer::Invalid(format!("itemIdentifier {id} is not in the batch"));
        };
        lowest = Some(lowest.map_or(index, |l| l.min(index)));
    }
    match lowest {
        None => StreamAnswer::Success { state },
        Some(index) => StreamAnswer::Partial { index, state },
    }
}

/// The SQS message attributes as Lambda's event spells them.
pub fn sqs_message_attributes(
    attrs: &HashMap<String, aws_sdk_sqs::types::MessageAttributeValue>,
) -> Value {
    let b64 = |b: &aws_sdk_sqs::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    let mut out = Map::new();
    for (name, v) in attrs {
        out.insert(
            name.clone(),
            json!({
                "stringValue": v.string_value,
                "binaryValue": v.binary_value.as_ref().map(b64),
                "stringListValues": v.string_list_values.clone().unwrap_or_default(),
                "binaryListValues": v.binary_list_values.as_deref().unwrap_or_default().iter().map(b64).collect::<Vec<_>>(),
                "dataType": v.data_type,
            }),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};

    fn rec(seq: &str) -> StreamRecord {
        StreamRecord {
            shard_id: "shardId-000000000001".into(),
            sequence_number: seq.into(),
            partition_key: "v1".into(),
            arrival_ms: 1_545_084_650_987,
            data: b"{\"a\":1}".to_vec(),
        }
    }

    fn src() -> KinesisSource {
        KinesisSource {
            region: "us-east-1".into(),
            event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c".into(),
            invoke_identity_arn: "arn:aws:iam::123456789012:role/r".into(),
        }
    }

    #[test]
    fn kinesis_event_parses_as_lambdas() {
        let v = kinesis_event(&[rec("9"), rec("10")], &src());
        assert_eq!(v["Records"][0]["eventID"], "shardId-000000000001:9");
        assert_eq!(v["Records"][0]["kinesis"]["data"], "eyJhIjoxfQ==");
        let e: KinesisEvent = serde_json::from_value(v).unwrap();
        let r = &e.records[1];
        assert_eq!(r.kinesis.sequence_number, "10");
        assert_eq!(
            r.kinesis.approximate_arrival_timestamp.timestamp_millis(),
            1_545_084_650_987
        );
        assert_eq!(r.kinesis.data.0, b"{\"a\":1}");
    }

    #[test]
    fn window_event_parses_as_lambdas() {
        let state = Map::from_iter([("k".to_string(), Value::from("v"))]);
        let w = WindowFields {
            start_ms: 1_000,
            end_ms: 21_000,
            state: &state,
            shard_id: "shardId-000000000001",
            is_final: true,
            terminated_early: false,
        };
        let v = kinesis_window_event(&[rec("1")], &src(), &w);
        let e: KinesisTimeWindowEvent = serde_json::from_value(v).unwrap();
        let p = &e.time_window_properties;
        assert!(p.is_final_invoke_for_window);
        assert_eq!(p.window.end.timestamp_millis(), 21_000);
        assert_eq!(p.state["k"], "v");
        assert_eq!(e.kinesis_event.records.len(), 1);
    }

    #[test]
    fn answers_read_like_lambda() {
        let batch = [rec("8"), rec("9"), rec("10")];
        let ok = |v: Value| read_stream_answer(&v, &batch, false);
        assert_eq!(ok(json!({})), StreamAnswer::Success { state: None });
        assert_eq!(ok(Value::Null), StreamAnswer::Success { state: None });
        assert_eq!(
            ok(json!({"batchItemFailures": null})),
            StreamAnswer::Success { state: None }
        );
        // Numeric order, not string order: "10" > "9".
        let two = json!({"batchItemFailures": [{"itemIdentifier": "10"}, {"itemIdentifier": "9"}]});
        assert_eq!(
            ok(two),
            StreamAnswer::Partial {
                index: 1,
                state: None
            }
        );
        assert!(matches!(
            ok(json!({"batchItemFailures": [{"itemIdentifier": ""}]})),
            StreamAnswer::Invalid(_)
        ));
        assert!(matches!(
            ok(json!({"batchItemFailures": [{"itemIdentifier": "77"}]})),
            StreamAnswer::Invalid(_)
        ));
        assert!(matches!(
            read_stream_answer(&json!({}), &batch, true),
            StreamAnswer::Invalid(_)
        ));
    }

    #[test]
    fn item_identifiers_of_56_and_129_digits_find_their_record() {
        for base in [
            "4959033827149025660855969253836157109592157598913658".to_string(),
            "7".repeat(123),
        ] {
            let seq = |n: u32| format!("{base}{n:04}");
            let batch = [rec(&seq(8)), rec(&seq(9)), rec(&seq(10))];
            assert!(matches!(batch[0].sequence_number.len(), 56 | 127));
            let answer = json!({"batchItemFailures": [
                {"itemIdentifier": seq(10)}, {"itemIdentifier": seq(9)}
            ]});
            // With a parse into an integer every id became 0: index 0, always.
            assert_eq!(
                read_stream_answer(&answer, &batch, false),
                StreamAnswer::Partial {
                    index: 1,
                    state: None
                }
            );
            let missing = json!({"batchItemFailures": [{"itemIdentifier": seq(11)}]});
            assert!(matches!(
                read_stream_answer(&missing, &batch, false),
                StreamAnswer::Invalid(_)
            ));
        }
    }
}
