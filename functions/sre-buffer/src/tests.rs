use super::*;
use playback_domain::memory::{MemoryDeadLetters, MemorySreStore};
use playback_domain::sre::IncidentKind;

const NOW_MS: i64 = 1_795_430_000_000;

fn sample() -> SqsEvent {
    let path = format!(
        "{}/../../events/samples/sqs-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn handler(errors_per_minute: u64) -> SreBuffer<MemorySreStore, MemoryDeadLetters> {
    SreBuffer {
        store: MemorySreStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        rule: SreRule {
            errors_per_minute,
            rebuffer_starts_per_minute: 100,
        },
    }
}

#[tokio::test]
async fn bad_build_errors_open_one_incident_and_poison_is_acked() {
    let h = handler(4);
    let (resp, report) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.events, report.dead_letters), (6, 1));
    assert_eq!(report.incidents.len(), 1);
    let i = &report.incidents[0];
    assert_eq!(i.kind, IncidentKind::PlaybackFailures);
    assert_eq!((i.key.app_version.as_str(), i.count), ("5.3.0-beta", 4));
    assert_eq!(
        h.dead_letters.letters.lock().unwrap()[0].reason_code,
        "missing_field"
    );
    // A redelivered batch (SQS is at-least-once) does not open it again.
    let (_, again) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    assert!(again.incidents.is_empty());
}

#[tokio::test]
async fn below_threshold_no_incident() {
    let h = handler(5);
    let (_, report) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    assert!(report.incidents.is_empty());
}

#[tokio::test]
async fn store_failure_reports_only_the_affected_messages() {
    let h = handler(4);
    h.store.faults.fail_key("eu#tv#5.3.0-beta");
    let (resp, report) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(ids, ["m-0", "m-1", "m-2", "m-3"]);
    assert_eq!(report.failed_messages, 4);
}

/// A record packing one more event than the contract's cap (and Firehose's).
fn over_the_cap() -> String {
    playback_domain::record::sample_packed_record(playback_domain::event::MAX_EVENTS_PER_RECORD + 1)
}

#[tokio::test]
async fn a_message_over_500_events_is_one_oversized_dead_letter() {
    let h = handler(4);
    let mut ev = sample();
    ev.records.truncate(1);
    ev.records[0].body = Some(over_the_cap());
    let (resp, report) = h.handle(&ev, Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty(), "acknowledged");
    assert_eq!((report.events, report.dead_letters), (0, 1));
    let letters = h.dead_letters.letters.lock().unwrap();
    assert_eq!(letters[0].reason_code, "oversized");
}
