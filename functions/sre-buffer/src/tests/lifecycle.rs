//! Incidents across batches: opened once, updated, paged once, resolved after
//! the quiet minutes, re-opened only by a new breach.

use super::*;
use aws_lambda_events::event::sqs::SqsMessage;
use playback_domain::sre::incident::IncidentState;

/// 2026-11-23T10:00:00Z
const T0: i64 = 1_795_428_000_000;

fn iso(ms: i64) -> String {
    playback_domain::event::format_rfc3339_ms(ms)
}

/// One slice-minute's traffic as one SQS message: `attempts` session starts,
/// `fatal` DECODER_ERROR errors and one 60 s heartbeat per attempt.
fn minute_msg(
    id: &str,
    slice: (&str, &str, &str),
    minute: i64,
    attempts: u64,
    fatal: u64,
) -> SqsMessage {
    let (region, platform, version) = slice;
    let at = T0 + minute * 60_000;
    let mut lines = Vec::new();
    let mut push = |n: u64, kind: &str, extra: &str| {
        for k in 0..n {
            lines.push(format!(
                r#"{{"event_id":"{id}-{kind}-{k}","event_type":"{kind}","event_time":"{}","viewer_id":"v{k}","session_id":"s{k}","title_id":"t1","region":"{region}","device_platform":"{platform}","app_version":"{version}"{extra}}}"#,
                iso(at + 1_000)
            ));
        }
    };
    push(attempts, "session_start", "");
    push(
        attempts,
        "heartbeat",
        r#","watched_ms":60000,"stalled_ms":0"#,
    );
    push(fatal, "error", r#","error_code":"DECODER_ERROR""#);
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_string());
    m.body = Some(lines.join("\n"));
    m
}

fn batch(msgs: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = msgs;
    e
}

const BIG: (&str, &str, &str) = ("us-east", "web", "5.3.0");
const BAD: (&str, &str, &str) = ("eu", "tv", "5.4.0-beta");

fn now(minute: i64) -> Clock {
    Clock::at(T0 + minute * 60_000 + 30_000)
}

async fn run(h: &Handler, minute: i64, msgs: Vec<SqsMessage>) -> BatchReport {
    let (resp, report) = h.handle(&batch(msgs), now(minute)).await;
    assert!(resp.batch_item_failures.is_empty());
    report
}

fn incident(h: &Handler, slice: (&str, &str, &str)) -> Option<Incident> {
    let id = format!("{}#{}#{}#playback_failures", slice.0, slice.1, slice.2);
    h.store.incidents.lock().unwrap().get(&id).cloned()
}

#[tokio::test]
async fn big_healthy_slice_does_not_page_small_bad_slice_does() {
    let h = handler(20);
    // Ten normal minutes: the big slice at its usual 4 %, the beta at 1/40.
    for m in 0..10 {
        let msgs = vec![
            minute_msg(&format!("big-{m}"), BIG, m, 500, 20),
            minute_msg(&format!("bad-{m}"), BAD, m, 40, 1),
        ];
        assert!(run(&h, m, msgs).await.incidents.is_empty());
    }
    // Minute 10: the big slice has 25 fatal errors (a normal 5 %), more than the
    // beta's 12, but only the beta's 12 in 40 (30 %) is a rate to page on.
    let report = run(
        &h,
        10,
        vec![
            minute_msg("big-10", BIG, 10, 500, 25),
            minute_msg("bad-10", BAD, 10, 40, 12),
        ],
    )
    .await;
    assert_eq!(report.incidents.len(), 1);
    assert_eq!(report.incidents[0].key.app_version, "5.4.0-beta");
    assert_eq!(report.incidents[0].kind, IncidentKind::PlaybackFailures);
    assert!(incident(&h, BIG).is_none());
    assert_eq!(h.pager.pages.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn one_incident_across_batches_and_redeliveries_paged_once_then_resolved() {
    let h = handler(20);
    let bad = |id: &str, m| minute_msg(id, BAD, m, 40, 12);
    let report = run(&h, 0, vec![bad("a", 0)]).await;
    assert_eq!((report.incidents.len(), report.pages), (1, 1));
    // The same message redelivered, and a second batch of the same minute.
    assert!(run(&h, 0, vec![bad("a", 0)]).await.incidents.is_empty());
    assert!(run(&h, 0, vec![bad("b", 0)]).await.incidents.is_empty());
    // Later breaching minutes update it (every attempt failing: even the
    // rate's lower bound beats twice minute 0's 30 %).
    let report = run(&h, 1, vec![minute_msg("c", BAD, 1, 40, 40)]).await;
    assert!(report.incidents.is_empty());
    let i = incident(&h, BAD).unwrap();
    assert_eq!(i.key.minute_ms, T0, "still the incident opened at minute 0");
    assert_eq!(i.last_breach_minute_ms, T0 + 60_000);
    assert_eq!(i.peak_rate, 1.0);
    assert!(i.notified);
    assert_eq!(h.pager.pages.lock().unwrap().len(), 1, "paged once");
    // Quiet minutes 2..=5: still open; minute 6 is the 5th minute after the last breach.
    for m in 2..6 {
        let r = run(&h, m, vec![minute_msg(&format!("q{m}"), BAD, m, 40, 0)]).await;
        assert!(r.resolved.is_empty(), "minute {m}");
    }
    let r = run(&h, 6, vec![minute_msg("q6", BAD, 6, 40, 0)]).await;
    assert_eq!(r.resolved.len(), 1);
    assert_eq!(incident(&h, BAD).unwrap().state, IncidentState::Resolved);
    // A redelivered old breach does not re-open it; a new one does, and pages.
    assert!(run(&h, 7, vec![bad("a", 0)]).await.incidents.is_empty());
    // The baseline now holds minutes 0 and 1: a breach must beat 2 x that.
    let r = run(&h, 7, vec![minute_msg("new", BAD, 7, 40, 40)]).await;
    assert_eq!((r.incidents.len(), r.pages), (1, 1));
    assert_eq!(incident(&h, BAD).unwrap().key.minute_ms, T0 + 7 * 60_000);
    assert_eq!(h.pager.pages.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_lost_page_is_sent_by_a_later_batch() {
    let h = handler(20);
    let id = format!("{}#{}#{}#playback_failures", BAD.0, BAD.1, BAD.2);
    h.pager.faults.fail_key(&id);
    let (resp, report) = h
        .handle(&batch(vec![minute_msg("a", BAD, 0, 40, 12)]), now(0))
        .await;
    assert_eq!(resp.batch_item_failures.len(), 1, "retried by SQS");
    assert_eq!(report.pages, 0);
    assert!(!incident(&h, BAD).unwrap().notified);
    h.pager.faults.heal();
    let report = run(&h, 0, vec![minute_msg("a", BAD, 0, 40, 12)]).await;
    assert_eq!((report.incidents.len(), report.pages), (0, 1));
    assert!(incident(&h, BAD).unwrap().notified);
    assert!(
        run(&h, 1, vec![minute_msg("b", BAD, 1, 40, 12)])
            .await
            .pages
            == 0
    );
}
