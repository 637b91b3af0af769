//! File sinks without a network: files round-trip and the Lambda event
//! parses as aws_lambda_events' types (delivery: `tests/delivery.rs`).
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use loadgen::sinks::file::{read_records_file, sequence_number};
use loadgen::sinks::{FileSink, KinesisEventFile, WindowMode};
use loadgen::{generate, ScenarioConfig};
use playback_domain::{decode_record, Clock, StreamPosition};

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("loadgen-{}-{name}", std::process::id()))
}

fn small() -> loadgen::Generated {
    generate(&ScenarioConfig {
        viewers: 100,
        titles: 10,
        rate: 20.0,
        duration_s: Some(60.0),
        bad_firmware: Some("*:0.05".parse().unwrap()),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn file_sink_round_trips_records() {
    let g = small();
    let path = tmp("records.jsonl");
    let mut sink = FileSink::create(&path).unwrap();
    for r in &g.records {
        sink.write(r).unwrap();
    }
    sink.finish().unwrap();
    let back = read_records_file(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let expected: Vec<_> = g
        .records
        .iter()
        .map(|r| (r.partition_key.clone(), r.data.clone()))
        .collect();
    assert_eq!(back, expected);
}

#[test]
fn kinesis_event_file_is_a_lambda_kinesis_event() {
    let g = generate(&ScenarioConfig {
        events: Some(10_000),
        duration_s: None,
        pack_bytes: 0,
        bad_firmware: Some("*:0.02".parse().unwrap()),
        ..Default::default()
    })
    .unwrap();
    let path = tmp("event.json");
    let mut f = KinesisEventFile::create(&path, "playback-events", "us-east-1", None).unwrap();
    for r in &g.records {
        f.write(r).unwrap();
    }
    assert_eq!(f.finish().unwrap(), 10_000);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let ev: KinesisEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(ev.records.len(), 10_000);
    let clock = Clock::at(g.manifest.summary.last_emit_ms.unwrap() + 60_000);
    let mut malformed = 0;
    let mut last: Option<StreamPosition> = None;
    for (rec, orig) in ev.records.iter().zip(&g.records) {
        assert_eq!(rec.kinesis.data.0, orig.data);
        assert_eq!(rec.kinesis.partition_key, orig.partition_key);
        let seq = &rec.kinesis.sequence_number;
        assert_eq!(
            rec.event_id.as_deref(),
            Some(format!("shardId-000000000000:{seq}").as_str())
        );
        assert_eq!(
            rec.kinesis.approximate_arrival_timestamp.timestamp_millis(),
            orig.emit_ms / 1_000 * 1_000
        );
        let pos = StreamPosition::new(seq, 0).unwrap();
        assert!(last.as_ref().is_none_or(|l| *l < pos));
        last = Some(pos);
        malformed += decode_record(&rec.kinesis.data.0, clock)
            .iter()
            .filter(|d| d.result.is_err())
            .count();
    }
    assert!((199..=201).contains(&malformed), "{malformed}");
    assert_eq!(sequence_number(0).len(), 56);
}

#[test]
fn kinesis_event_file_can_carry_a_tumbling_window() {
    let g = small();
    let path = tmp("window.json");
    let mut f = KinesisEventFile::create(&path, "s", "eu-west-1", Some(WindowMode::Final))
        .unwrap()
        .with_window_ms(20_000);
    for r in g.records.iter().take(50) {
        f.write(r).unwrap();
    }
    f.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let ev: KinesisTimeWindowEvent = serde_json::from_str(&text).unwrap();
    let props = &ev.time_window_properties;
    assert!(props.is_final_invoke_for_window);
    assert_eq!((props.window.end - props.window.start).num_seconds(), 20);
    assert_eq!(ev.kinesis_event.records.len(), 50);
    assert_eq!(
        props.event_source_arn.as_deref(),
        Some("arn:aws:kinesis:eu-west-1:123456789012:stream/s")
    );
}
