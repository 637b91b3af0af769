use super::*;
use playback_domain::memory::{MemoryDeadLetters, MemoryPager, MemorySreStore};
use playback_domain::sre::IncidentKind;

mod lifecycle;

const NOW_MS: i64 = 1_795_430_000_000;

fn sample() -> SqsEvent {
    let path = format!(
        "{}/../../events/samples/sqs-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) type Handler = SreBuffer<MemorySreStore, MemoryDeadLetters, MemoryPager>;

pub(crate) fn handler(min_attempts: u64) -> Handler {
    SreBuffer {
        store: MemorySreStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        pager: MemoryPager::default(),
        rule: SreRule {
            min_attempts,
            ..SreRule::default()
        },
        metrics: playback_aws::emf::Metrics::memory(),
    }
}

#[tokio::test]
async fn sample_batch_counts_and_poison_is_acked() {
    let h = handler(20);
    let (resp, report) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.events, report.dead_letters), (6, 1));
    // 4 fatal DRM errors but no attempts on the queue: below the minimum sample.
    assert!(report.incidents.is_empty());
    let mut c = SreCounts::default();
    h.store
        .buckets
        .lock()
        .unwrap()
        .values()
        .for_each(|b| c.add(*b));
    assert_eq!(
        (c.fatal_errors, c.start_failures, c.rebuffer_starts),
        (4, 4, 1)
    );
    assert_eq!(
        h.dead_letters.letters.lock().unwrap()[0].reason_code,
        "missing_field"
    );
}

#[tokio::test]
async fn store_failure_reports_only_the_affected_messages() {
    let h = handler(20);
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
    let h = handler(20);
    let mut ev = sample();
    ev.records.truncate(1);
    ev.records[0].body = Some(over_the_cap());
    let (resp, report) = h.handle(&ev, Clock::at(NOW_MS)).await;
    assert!(resp.batch_item_failures.is_empty(), "acknowledged");
    assert_eq!((report.events, report.dead_letters), (0, 1));
    let letters = h.dead_letters.letters.lock().unwrap();
    assert_eq!(letters[0].reason_code, "oversized");
}

#[tokio::test]
async fn non_retriable_store_error_fails_the_whole_batch() {
    use playback_domain::ports::Retry;
    let h = handler(20);
    h.store
        .faults
        .fail_key_with("eu#tv#5.3.0-beta", Retry::NonRetriable);
    let err = h
        .try_handle(&sample(), Clock::at(NOW_MS))
        .await
        .unwrap_err();
    let SreBufferError::NonRetriable(port) = &err else {
        panic!("{err}: not NonRetriable")
    };
    assert!(!port.is_retriable());
    // A retriable one still fails only the messages it touched.
    h.store.faults.fail_key("eu#tv#5.3.0-beta");
    let (resp, _) = h.try_handle(&sample(), Clock::at(NOW_MS)).await.unwrap();
    assert_eq!(resp.batch_item_failures.len(), 4);
}

#[tokio::test]
async fn non_retriable_dead_letter_error_fails_before_any_count() {
    use playback_domain::ports::Retry;
    let h = handler(20);
    let source = sample().records.iter().find_map(|m| {
        let id = m.message_id.as_deref()?;
        let body = m.body.as_deref()?;
        decode_record(body.as_bytes(), Clock::at(NOW_MS))
            .iter()
            .find(|d| d.result.is_err())
            .map(|d| format!("sqs/{id}/{}", d.index))
    });
    h.dead_letters
        .faults
        .fail_key_with(&source.unwrap(), Retry::NonRetriable);
    assert!(h.try_handle(&sample(), Clock::at(NOW_MS)).await.is_err());
    assert!(h.store.buckets.lock().unwrap().is_empty());
    let (resp, report) = h.handle(&sample(), Clock::at(NOW_MS)).await;
    assert_eq!(resp.batch_item_failures.len(), sample().records.len());
    assert_eq!(report.failed_messages, sample().records.len());
}

#[tokio::test]
async fn a_batch_reports_its_attempts_to_the_metrics_sink() {
    let h = handler(20);
    h.handle(&sample(), Clock::at(NOW_MS)).await;
    let seen: Vec<f64> = h
        .metrics
        .documents()
        .iter()
        .filter_map(|d| d.get(ATTEMPTS_SEEN_METRIC).and_then(|v| v.as_f64()))
        .collect();
    assert_eq!(
        seen,
        [0.0],
        "one document per batch; the sample has no session_start"
    );
}

#[test]
fn the_blind_alarm_watches_what_a_batch_emits() {
    let d = attempts_seen_document(1, 7);
    let cw = &d["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(cw["Namespace"], "Playback");
    assert_eq!(cw["Dimensions"], serde_json::json!([["Function"]]));
    assert_eq!(cw["Metrics"][0]["Name"], "SreAttemptsSeen");
    assert_eq!(
        (d["Function"].as_str(), d["SreAttemptsSeen"].as_f64()),
        (Some("sre-buffer"), Some(7.0))
    );
}

/// The entry point main.rs and the local runner call: the raw payload in,
/// `try_handle`'s answer.
#[tokio::test]
async fn the_entry_point_takes_the_raw_payload() {
    let raw = serde_json::to_string(&sample()).unwrap();
    let app = App::new(handler(20));
    let (resp, report) = app.invoke_at(&raw, Clock::at(NOW_MS)).await.unwrap();
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((report.events, report.dead_letters), (6, 1));
    let err = app.invoke_at("{", Clock::at(NOW_MS)).await.unwrap_err();
    assert!(matches!(err, SreBufferError::Payload(_)), "{err}");
}
