//! `DynamoSreStore` against the emulator: the conditional writes that keep
//! one incident per slice and kind, and the baseline query's minute range.

use playback_aws::sre_store::DynamoSreStore;
use playback_domain::ports::SreStore;
use playback_domain::sre::incident::{Incident, IncidentState};
use playback_domain::sre::{IncidentKind, SreCounts, SreKey};

use crate::common::*;

const T0: i64 = 1_795_428_000_000;

fn key(minute: i64) -> SreKey {
    SreKey {
        minute_ms: T0 + minute * 60_000,
        region: "eu".into(),
        device_platform: "tv".into(),
        app_version: "5.4.0-beta".into(),
    }
}

fn opened(minute: i64) -> Incident {
    Incident {
        key: key(minute),
        kind: IncidentKind::PlaybackFailures,
        state: IncidentState::Open,
        last_breach_minute_ms: key(minute).minute_ms,
        peak_rate: 0.3,
        threshold: 0.05,
        baseline_rate: 0.01,
        opened_at_ms: T0,
        resolved_minute_ms: None,
        notified: false,
    }
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn incidents_open_once_update_resolve_and_reopen_on_dynamodb() {
    let aws = emulator("sre_store").await;
    let t = topology("srestore");
    let r = setup(&aws, &t).await;
    let store = DynamoSreStore::new(aws_sdk_dynamodb::Client::new(&aws), r.sre_table.clone());
    let c = SreCounts {
        attempts: 10,
        fatal_errors: 1,
        session_ms: 60_000,
        events: 11,
        ..Default::default()
    };
    for m in 0..4 {
        store.add(&key(m), c).await.unwrap();
    }
    assert_eq!(store.add(&key(3), c).await.unwrap().attempts, 20, "ADD");
    let base = store.baseline(&key(3), 2).await.unwrap();
    assert_eq!(base.attempts, 20, "minutes 1 and 2 only");

    assert!(store.open_incident(&opened(3)).await.unwrap());
    assert!(
        !store.open_incident(&opened(3)).await.unwrap(),
        "one while open"
    );
    assert!(
        !store.open_incident(&opened(4)).await.unwrap(),
        "one while open"
    );
    let mut i = opened(3);
    i.last_breach_minute_ms = key(5).minute_ms;
    i.peak_rate = 0.6;
    i.notified = true;
    assert!(store.update_incident(&i).await.unwrap());
    let stored = store.incidents(&key(9)).await.unwrap();
    assert_eq!(stored, vec![i.clone()]);
    let mut stale = opened(3);
    stale.last_breach_minute_ms = key(4).minute_ms;
    assert!(
        !store.update_incident(&stale).await.unwrap(),
        "never moves back"
    );
    i.state = IncidentState::Resolved;
    i.resolved_minute_ms = Some(key(10).minute_ms);
    assert!(store.update_incident(&i).await.unwrap());
    assert!(!store.update_incident(&i).await.unwrap(), "resolved once");
    assert!(
        !store.open_incident(&opened(9)).await.unwrap(),
        "not before the resolution"
    );
    assert!(
        store.open_incident(&opened(11)).await.unwrap(),
        "a new breach re-opens"
    );
    assert_eq!(store.incidents(&key(0)).await.unwrap()[0].key, key(11));
    teardown(&aws, &r).await;
}
