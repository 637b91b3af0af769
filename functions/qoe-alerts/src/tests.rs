use super::*;
use aws_lambda_events::event::kinesis::KinesisTimeWindowEvent;
use playback_domain::memory::{MemoryAlertSink, MemoryDeadLetters, MemoryWindowStore};

const NOW_MS: i64 = 1_795_430_000_000; // 2026-11-23T10:33:20Z

fn sample(name: &str) -> KinesisTimeWindowEvent {
    let path = format!("{}/../../events/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Tests edit records with aws_lambda_events' types, then send the JSON
/// Lambda would send through the handler's own one-pass payload type.
fn batch_of(e: &KinesisTimeWindowEvent) -> KinesisBatch {
    serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
}

fn handler() -> QoeAlerts<MemoryWindowStore, MemoryAlertSink, MemoryDeadLetters> {
    QoeAlerts {
        windows: MemoryWindowStore::default(),
        alerts: MemoryAlertSink::default(),
        dead_letters: MemoryDeadLetters::default(),
        rule: AlertRule {
            baseline_ratio: 0.01,
            margin: 0.04,
            min_sessions: 5,
            min_sample_ms: 60_000,
        },
        metrics: playback_aws::emf::Metrics::memory(),
    }
}

#[tokio::test]
async fn final_window_raises_one_alert_for_the_breaching_title_only() {
    let h = handler();
    let (resp, report) = h
        .handle(
            &batch_of(&sample("kinesis-window-final.json")),
            Clock::at(NOW_MS),
        )
        .await
        .unwrap();
    assert!(
        resp.state.is_empty(),
        "state is cleared after the final invoke"
    );
    assert_eq!(report.groups_flushed, 3, "three title x region groups");
    assert_eq!(h.windows.faults.write_count(), 1, "one write for the shard");
    let alerts = h.alerts.alerts.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1);
    let a = alerts.values().next().unwrap();
    assert_eq!(
        (a.title_id.as_str(), a.region.as_str()),
        ("t-incident", "eu")
    );
    assert!((a.ratio - 0.25).abs() < 1e-9);
    assert_eq!(a.totals.sessions, 6);
    // t-small breaches the ratio but has 2 sessions: below the minimum sample.
    let letters = h.dead_letters.letters.lock().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason_code, "missing_field");
    assert!(letters[0].reason.contains("title_id"));
}

#[tokio::test]
async fn replayed_final_invoke_does_not_double_count_or_re_alert() {
    let h = handler();
    let ev = sample("kinesis-window-final.json");
    h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.unwrap();
    let (_, again) = h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.unwrap();
    assert!(again.alerts_raised.is_empty());
    let w = h.windows.combined();
    let (totals, shards) = &w[&(
        "t-incident".to_string(),
        "eu".to_string(),
        1_795_428_000_000,
    )];
    assert_eq!(
        (totals.watched_ms, totals.stalled_ms, shards.len()),
        (90_000, 30_000, 1)
    );
}

#[tokio::test]
async fn open_window_carries_state_and_writes_nothing() {
    let h = handler();
    let (resp, report) = h
        .handle(
            &batch_of(&sample("kinesis-window-open.json")),
            Clock::at(NOW_MS),
        )
        .await
        .unwrap();
    assert_eq!(report, FlushReport::default());
    assert_eq!(h.windows.faults.write_count(), 0);
    let state = ShardWindow::from_state(&resp.state[STATE_KEY]).unwrap();
    assert_eq!(state.groups["t-incident"]["eu"].events, 2);
    // The next (final) invoke starts from that state and adds its own records.
    let mut last = sample("kinesis-window-final.json");
    last.time_window_properties.state = resp.state;
    h.handle(&batch_of(&last), Clock::at(NOW_MS)).await.unwrap();
    let w = h.windows.combined();
    let (totals, _) = &w[&(
        "t-incident".to_string(),
        "eu".to_string(),
        1_795_428_000_000,
    )];
    assert_eq!(totals.events, 8, "6 from the final batch + 2 carried");
}

#[tokio::test]
async fn store_failure_fails_the_invoke_and_the_retry_succeeds() {
    let h = handler();
    h.windows
        .faults
        .fail_key("1795428000000#shardId-000000000000");
    let ev = sample("kinesis-window-final.json");
    assert!(h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.is_err());
    h.windows.faults.heal();
    h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.unwrap();
    assert_eq!(h.alerts.alerts.lock().unwrap().len(), 1);
    let w = h.windows.combined();
    let (totals, _) = &w[&(
        "t-incident".to_string(),
        "eu".to_string(),
        1_795_428_000_000,
    )];
    assert_eq!(
        totals.watched_ms, 90_000,
        "the retried flush added nothing twice"
    );
}

#[tokio::test]
async fn two_shards_combine_before_the_rule_is_judged() {
    let h = handler();
    let mut ev = sample("kinesis-window-final.json");
    // Shard A holds half the incident sessions: below the minimum on its own.
    ev.kinesis_event.records.truncate(6);
    let (_, first) = h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.unwrap();
    assert!(first.alerts_raised.is_empty());
    let mut other = sample("kinesis-window-final.json");
    other.time_window_properties.shard_id = Some("shardId-000000000001".into());
    other.kinesis_event.records.drain(..6);
    let (_, second) = h
        .handle(&batch_of(&other), Clock::at(NOW_MS))
        .await
        .unwrap();
    assert_eq!(second.alerts_raised.len(), 1);
    assert_eq!(second.alerts_raised[0].totals.shards_flushed, 2);
}

/// A record packing one more event than the contract's cap (and Firehose's).
fn over_the_cap() -> String {
    playback_domain::record::sample_packed_record(playback_domain::event::MAX_EVENTS_PER_RECORD + 1)
}

#[tokio::test]
async fn a_record_over_500_events_is_one_oversized_dead_letter() {
    let h = handler();
    let mut ev = sample("kinesis-window-final.json");
    ev.kinesis_event.records.truncate(1);
    *ev.kinesis_event.records[0].kinesis.data = over_the_cap().into_bytes();
    let (resp, _) = h.handle(&batch_of(&ev), Clock::at(NOW_MS)).await.unwrap();
    assert!(resp.batch_item_failures.is_empty(), "acknowledged");
    let letters = h.dead_letters.letters.lock().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason_code, "oversized");
}

#[tokio::test]
async fn non_retriable_store_error_fails_the_invoke_with_its_class() {
    use playback_domain::ports::Retry;
    let h = handler();
    h.windows
        .faults
        .fail_key_with("1795428000000#shardId-000000000000", Retry::NonRetriable);
    let ev = sample("kinesis-window-final.json");
    let err = h
        .handle(&batch_of(&ev), Clock::at(NOW_MS))
        .await
        .unwrap_err();
    assert_eq!(err.class(), Retry::NonRetriable);
    assert!(matches!(err, QoeError::Port(ref e) if !e.is_retriable()));
    assert!(h.alerts.alerts.lock().unwrap().is_empty());
    // A throttle stays what it was: a failed invoke that Lambda retries.
    h.windows.faults.heal();
    h.windows
        .faults
        .fail_key("1795428000000#shardId-000000000000");
    let err = h
        .handle(&batch_of(&ev), Clock::at(NOW_MS))
        .await
        .unwrap_err();
    assert_eq!(err.class(), Retry::Retriable);
}

/// The entry point main.rs, the local runner and the bench call: the raw
/// payload in, through the pooled parse, the same answer as the handler.
#[tokio::test]
async fn the_entry_point_takes_the_raw_payload() {
    let path = format!(
        "{}/../../events/samples/kinesis-window-final.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read_to_string(path).unwrap();
    let app = App::new(handler());
    let (resp, report) = app.invoke_at(&raw, Clock::at(NOW_MS)).await.unwrap();
    assert!(resp.state.is_empty());
    assert_eq!((report.groups_flushed, report.alerts_raised.len()), (3, 1));
    assert_eq!(app.handler.dead_letters.letters.lock().unwrap().len(), 1);
    let err = app.invoke_at(r#"{"Records": 5}"#, Clock::at(NOW_MS)).await;
    let err = err.unwrap_err();
    assert!(matches!(err, QoeError::Payload(_)), "{err}");
    assert_eq!(err.class(), Retry::NonRetriable);
}
