use super::*;
use aws_lambda_events::event::kinesis::KinesisEvent;
use playback_domain::memory::{MemoryDeadLetters, MemoryFeatureStore};

const NOW_MS: i64 = 1_795_430_000_000;

fn sample() -> KinesisEvent {
    let path = format!(
        "{}/../../events/samples/kinesis-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Tests edit records with aws_lambda_events' types, then send the JSON
/// Lambda would send through the handler's own one-pass payload type.
fn batch_of(e: &KinesisEvent) -> KinesisBatch {
    serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
}

fn handler() -> SessionFeatures<MemoryFeatureStore, MemoryDeadLetters> {
    SessionFeatures {
        store: MemoryFeatureStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        metrics: playback_aws::emf::Metrics::memory(),
    }
}

#[tokio::test]
async fn valid_events_become_features_and_poison_pills_are_acknowledged() {
    let h = handler();
    let (resp, report) = h.handle(&batch_of(&sample()), Clock::at(NOW_MS)).await;
    assert!(
        resp.batch_item_failures.is_empty(),
        "poison pills never fail the batch"
    );
    assert_eq!(report.viewers_written, 3, "v1, v2, v3: one write each");
    assert_eq!(h.store.faults.write_count(), 3);
    let items = h.store.items.lock().unwrap();
    let v1 = &items["v1"];
    // e-2 was sent twice by a retrying producer: counted once.
    assert_eq!((v1.lifetime_watched_ms, v1.events_applied), (10_000, 2));
    assert_eq!(items["v3"].recent_titles, vec!["t4", "t3"]);
    assert_eq!(
        (items["v3"].session_skips, items["v3"].session_saves),
        (1, 1)
    );
    let codes: Vec<String> = h
        .dead_letters
        .letters
        .lock()
        .unwrap()
        .iter()
        .map(|l| l.reason_code.clone())
        .collect();
    assert_eq!(
        codes,
        [
            "missing_field",
            "malformed_json",
            "unknown_event_type",
            "negative_duration"
        ]
    );
}

#[tokio::test]
async fn replayed_batch_changes_nothing() {
    let h = handler();
    h.handle(&batch_of(&sample()), Clock::at(NOW_MS)).await;
    let before = h.store.items.lock().unwrap().clone();
    let writes = h.store.faults.write_count();
    let (resp, report) = h.handle(&batch_of(&sample()), Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(report.viewers_written, 0);
    assert_eq!(
        h.store.faults.write_count(),
        writes,
        "no write at all on replay"
    );
    assert_eq!(*h.store.items.lock().unwrap(), before);
}

#[tokio::test]
async fn failed_viewer_reports_its_first_sequence_number_and_retry_completes() {
    let h = handler();
    h.store.faults.fail_key("v2");
    let batch = sample();
    let (resp, report) = h.handle(&batch_of(&batch), Clock::at(NOW_MS)).await;
    assert_eq!(report.viewers_failed, 1);
    let first_v2 = &batch.records[2].kinesis.sequence_number;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(ids, std::slice::from_ref(first_v2));
    // Lambda retries from that record on: v1's replayed event is skipped.
    h.store.faults.heal();
    let mut retry = batch.clone();
    retry.records.drain(..2);
    let (resp, _) = h.handle(&batch_of(&retry), Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty());
    let items = h.store.items.lock().unwrap();
    assert_eq!(items["v2"].lifetime_stalled_ms, 2_000);
    assert_eq!(
        items["v1"].lifetime_watched_ms, 10_000,
        "v1 not double counted by the retry"
    );
}

#[tokio::test]
async fn dead_letter_failure_retries_from_the_poison_record() {
    let h = handler();
    let batch = sample();
    let bad_source = format!(
        "shardId-000000000000/{}/0",
        batch.records[5].kinesis.sequence_number
    );
    h.dead_letters.faults.fail_key(&bad_source);
    let (resp, _) = h.handle(&batch_of(&batch), Clock::at(NOW_MS)).await;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(
        ids,
        [batch.records[3].kinesis.sequence_number.clone()],
        "earliest record with a dead letter"
    );
}

/// A record packing one more event than the contract's cap (and Firehose's).
fn over_the_cap() -> String {
    playback_domain::record::sample_packed_record(playback_domain::event::MAX_EVENTS_PER_RECORD + 1)
}

#[tokio::test]
async fn a_record_over_500_events_is_one_oversized_dead_letter() {
    let h = handler();
    let mut ev = sample();
    ev.records.truncate(1);
    *ev.records[0].kinesis.data = over_the_cap().into_bytes();
    let (resp, report) = h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty(), "acknowledged");
    assert_eq!((report.events, report.dead_letters), (0, 1));
    let letters = h.dead_letters.letters.lock().unwrap();
    assert_eq!(letters[0].reason_code, "oversized");
    assert_eq!(letters[0].payload.as_deref(), Some(over_the_cap().as_str()));
    assert!(h.store.items.lock().unwrap().is_empty(), "nothing folded");
}

#[tokio::test]
async fn non_retriable_store_error_fails_the_whole_batch() {
    use playback_domain::ports::Retry;
    let h = handler();
    h.store.faults.fail_key_with("v2", Retry::NonRetriable);
    let err = h
        .try_handle(&batch_of(&sample()), Clock::at(NOW_MS))
        .await
        .unwrap_err();
    let SessionFeaturesError::NonRetriable(port) = &err else {
        panic!("{err}: not NonRetriable")
    };
    assert_eq!(port.class(), Retry::NonRetriable);
    assert!(port.to_string().contains("InjectedAccessDenied"), "{port}");
    // The viewers written before are skipped when Lambda retries the batch.
    h.store.faults.heal();
    let (resp, _) = h
        .try_handle(&batch_of(&sample()), Clock::at(NOW_MS))
        .await
        .unwrap();
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        h.store.items.lock().unwrap()["v1"].lifetime_watched_ms,
        10_000
    );
}

#[tokio::test]
async fn non_retriable_dead_letter_error_fails_before_any_write() {
    use playback_domain::ports::Retry;
    let h = handler();
    let batch = sample();
    let bad_source = format!(
        "shardId-000000000000/{}/0",
        batch.records[5].kinesis.sequence_number
    );
    h.dead_letters
        .faults
        .fail_key_with(&bad_source, Retry::NonRetriable);
    assert!(h
        .try_handle(&batch_of(&batch), Clock::at(NOW_MS))
        .await
        .is_err());
    assert_eq!(h.store.faults.write_count(), 0);
    // The response-only entry point reports every record failed.
    let (resp, _) = h.handle(&batch_of(&batch), Clock::at(NOW_MS)).await;
    let ids: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(ids, [batch.records[0].kinesis.sequence_number.clone()]);
}

/// The entry point main.rs, the local runner and the bench call: the raw
/// payload in, through the pooled parse, `try_handle`'s answer.
#[tokio::test]
async fn the_entry_point_takes_the_raw_payload() {
    let raw = serde_json::to_string(&sample()).unwrap();
    let app = App::new(handler());
    for _ in 0..2 {
        // The second run reuses the pooled batch and replays: nothing new written.
        let (resp, report) = app.invoke_at(&raw, Clock::at(NOW_MS)).await.unwrap();
        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(report.dead_letters, 4);
    }
    assert_eq!(app.handler.store.faults.write_count(), 3);
    let err = app.invoke_at("[]", Clock::at(NOW_MS)).await.unwrap_err();
    assert!(matches!(err, SessionFeaturesError::Payload(_)), "{err}");
}
