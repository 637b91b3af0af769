use super::*;
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};

fn sample(name: &str) -> String {
    let path = format!("{}/../../events/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("sample")
}

#[test]
fn reads_what_aws_lambda_events_reads() {
    let json = sample("kinesis-batch.json");
    let ours: KinesisBatch = serde_json::from_str(&json).unwrap();
    let theirs: KinesisEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(ours.len(), theirs.records.len());
    for (a, b) in ours.records().zip(&theirs.records) {
        assert_eq!(a.data, Some(b.kinesis.data.0.as_slice()));
        assert_eq!(a.sequence_number, b.kinesis.sequence_number);
        assert_eq!(
            Some(a.shard_id),
            b.event_id.as_deref().map(|s| &s[..s.find(':').unwrap()])
        );
    }
    assert!(ours.window.is_none());
}

#[test]
fn reads_the_tumbling_window_fields() {
    let json = sample("kinesis-window-final.json");
    let ours: KinesisBatch = serde_json::from_str(&json).unwrap();
    let theirs: KinesisTimeWindowEvent = serde_json::from_str(&json).unwrap();
    let p = &theirs.time_window_properties;
    let w = ours.window.unwrap();
    assert_eq!(w.start_ms, p.window.start.timestamp_millis());
    assert_eq!(w.end_ms, p.window.end.timestamp_millis());
    assert_eq!(ours.shard_id, p.shard_id);
    assert_eq!(ours.state, p.state);
    assert!(ours.is_final_invoke_for_window && p.is_final_invoke_for_window);
    assert_eq!(ours.len(), theirs.kinesis_event.records.len());
}

#[test]
fn bad_base64_is_kept_as_a_record_without_data() {
    let json = r#"{"Records":[{"eventID":"shardId-1:42","kinesis":{"data":"!!","sequenceNumber":"42"}},
        {"kinesis":{"data":"eyJ9","sequenceNumber":"43"}}],"state":null}"#;
    let b: KinesisBatch = serde_json::from_str(json).unwrap();
    assert_eq!(b.len(), 2);
    let (r0, r1) = (b.record(0), b.record(1));
    assert_eq!(
        (r0.data, r0.sequence_number, r0.shard_id),
        (None, "42", "shardId-1")
    );
    assert_eq!(
        (r1.data, r1.sequence_number, r1.shard_id),
        (Some(&b"{\"}"[..]), "43", "unknown-shard")
    );
}

#[test]
fn a_reused_batch_forgets_the_previous_invocation() {
    let pool = BatchPool::default();
    let first = pool.parse(&sample("kinesis-window-final.json")).unwrap();
    pool.recycle(first);
    let json = sample("kinesis-batch.json");
    let again = pool.parse(&json).unwrap();
    let fresh: KinesisBatch = serde_json::from_str(&json).unwrap();
    assert_eq!(format!("{again:?}"), format!("{fresh:?}"));
    assert!(pool.parse("{} x").is_err(), "trailing garbage");
}

#[test]
fn a_payload_that_is_not_an_event_is_an_error() {
    assert!(serde_json::from_str::<KinesisBatch>("[1,2]").is_err());
    assert!(
        serde_json::from_str::<KinesisBatch>(r#"{"Records":[{"kinesis":{"data":1}}]}"#).is_err()
    );
    assert!(serde_json::from_str::<KinesisBatch>(r#"{"window":{"start":"x","end":"y"}}"#).is_err());
}
