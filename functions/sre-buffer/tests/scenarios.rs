//! Whole scenarios through the handler, on the simulated clock: the load
//! generator's SRE lines packed as the producer packs them, delivered in SQS
//! batches a couple of seconds after they were sent, judged by the rule of
//! infra/pipeline.json. A clean hour of a big population opens nothing (while
//! the rule is exercised on every kind); a bad release opens its slice's
//! incidents within a minute of its first failure, pages once, nothing else
//! opens, and they resolve once the release is rolled back.
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use loadgen::sinks::SrePacker;
use loadgen::{RecordStream, ScenarioConfig};
use playback_domain::memory::{MemoryDeadLetters, MemoryPager, MemorySreStore};
use playback_domain::sre::incident::Incident;
use playback_domain::sre::{IncidentKind, SreRule};
use playback_domain::Clock;
use sre_buffer::SreBuffer;

/// What the SQS event source does: up to 10 messages, or what arrived in a
/// 1 s batching window; the function sees them `LAG_MS` after the last send.
const LAG_MS: i64 = 2_000;
const WINDOW_MS: i64 = 1_000;
/// The producer's linger: a body is sent at most this long after its first line.
const LINGER_MS: i64 = 1_000;

struct Played {
    handler: SreBuffer<MemorySreStore, MemoryDeadLetters, MemoryPager>,
    first_failure_ms: Option<i64>,
    events: usize,
}

async fn play(cfg: ScenarioConfig, rule: SreRule) -> Played {
    let handler = SreBuffer {
        store: MemorySreStore::default(),
        dead_letters: MemoryDeadLetters::default(),
        pager: MemoryPager::default(),
        rule,
        metrics: Default::default(),
    };
    let truth = cfg.clone();
    let mut packer = SrePacker::default();
    let mut packed_since: Option<i64> = None;
    let mut batch: Vec<String> = Vec::new();
    let mut batch_since: Option<i64> = None;
    let mut first_failure_ms = None;
    let mut events = 0;
    let mut ids = 0u64;
    let mut invoke = |batch: &mut Vec<String>, at_ms: i64| {
        let records = batch
            .drain(..)
            .map(|body| {
                ids += 1;
                let mut m = SqsMessage::default();
                m.message_id = Some(format!("m{ids}"));
                m.body = Some(body);
                m
            })
            .collect();
        let mut event = SqsEvent::default();
        event.records = records;
        (event, Clock::at(at_ms + LAG_MS))
    };
    for em in RecordStream::new(cfg).unwrap() {
        let now = em.record.emit_ms;
        if packed_since.is_some_and(|t| now - t >= LINGER_MS) {
            batch.extend(packer.take());
            batch_since.get_or_insert(now);
            packed_since = None;
        }
        if batch.len() >= 10 || batch_since.is_some_and(|t| now - t >= WINDOW_MS) {
            let (event, clock) = invoke(&mut batch, now);
            let (resp, _) = handler.handle(&event, clock).await;
            assert!(resp.batch_item_failures.is_empty());
            batch_since = None;
        }
        for (line, entry) in em.lines_with_entries() {
            if !entry.sre || entry.duplicate {
                continue;
            }
            events += 1;
            let failing = truth.is_release_failure(entry);
            if failing && first_failure_ms.is_none() {
                first_failure_ms = Some(entry.event_time_ms);
            }
            packed_since.get_or_insert(now);
            if let Some(full) = packer.push(line) {
                batch.push(full);
                batch_since.get_or_insert(now);
            }
        }
    }
    batch.extend(packer.take());
    let (event, clock) = invoke(&mut batch, i64::MAX / 2);
    handler.handle(&event, clock).await;
    Played {
        handler,
        first_failure_ms,
        events,
    }
}

fn incidents(p: &Played) -> Vec<Incident> {
    p.handler
        .store
        .incidents
        .lock()
        .unwrap()
        .values()
        .cloned()
        .collect()
}

/// Slice-minutes whose sample was big enough to judge each kind.
fn judged(p: &Played, rule: &SreRule) -> [usize; 2] {
    let b = p.handler.store.buckets.lock().unwrap();
    let attempts = b
        .values()
        .filter(|c| c.attempts >= rule.min_attempts)
        .count();
    let session = b
        .values()
        .filter(|c| c.session_ms as f64 / 60_000.0 >= rule.min_session_minutes)
        .count();
    [attempts, session]
}

fn population(minutes: f64) -> ScenarioConfig {
    ScenarioConfig {
        seed: 11,
        viewers: 20_000,
        titles: 200,
        rate: 300.0,
        mean_session_s: 240.0,
        duration_s: Some(minutes * 60.0),
        pack_bytes: 0,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_clean_run_opens_no_incident() {
    let rule = playback_topology::Topology::deployed().sre;
    let p = play(population(20.0), rule).await;
    let [attempts, session] = judged(&p, &rule);
    eprintln!(
        "clean: {} events, {attempts} slice-minutes judged on attempts, {session} on session time",
        p.events
    );
    assert!(attempts >= 100 && session >= 100, "the rule was exercised");
    let opened = incidents(&p);
    assert!(opened.is_empty(), "false incidents: {opened:#?}");
    assert!(p.handler.pager.pages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_release_opens_its_slice_within_a_minute_and_resolves() {
    let rule = playback_topology::Topology::deployed().sre;
    let cfg = ScenarioConfig {
        bad_release: Some("5.3.0:android:us-west:720:180:0.5".parse().unwrap()),
        ..population(20.0)
    };
    let p = play(cfg, rule).await;
    let first = p.first_failure_ms.expect("the release failed something");
    let opened = incidents(&p);
    let slices: BTreeSet<String> = opened.iter().map(|i| i.key.dimensions()).collect();
    assert_eq!(
        slices.into_iter().collect::<Vec<_>>(),
        ["us-west#android#5.3.0"],
        "{opened:#?}"
    );
    let kinds: BTreeSet<IncidentKind> = opened.iter().map(|i| i.kind).collect();
    assert!(
        kinds.contains(&IncidentKind::VideoStartFailures),
        "{kinds:?}"
    );
    let detected = opened.iter().map(|i| i.opened_at_ms).min().unwrap();
    eprintln!(
        "bad release: detected {} ms after the first failure",
        detected - first
    );
    assert!(detected - first <= 60_000, "{} ms", detected - first);
    assert!(
        opened.iter().all(|i| !i.is_open()),
        "resolved after the rollback: {opened:#?}"
    );
    let pages = p.handler.pager.pages.lock().unwrap().len();
    assert_eq!(pages, opened.len(), "one page per incident");
}
