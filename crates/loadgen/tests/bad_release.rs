//! The bad release as generated: it touches its slice only, inside its
//! window, in the ways the SRE signals measure (start failures, crashes,
//! retries, rebuffering), and the traffic before it is as without it.
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use loadgen::{generate, ScenarioConfig};
use playback_domain::sre::{IncidentKind, SreCounts};
use playback_domain::EventType;

const SLICE: (&str, &str, &str) = ("eu-west", "tv", "5.2.0");

fn cfg(release: bool) -> ScenarioConfig {
    ScenarioConfig {
        viewers: 600,
        titles: 30,
        rate: 80.0,
        duration_s: Some(240.0),
        pack_bytes: 0,
        bad_release: release.then(|| "5.2.0:tv:eu-west:120:60:0.6".parse().unwrap()),
        ..Default::default()
    }
}

/// Counts over [from, to) per slice (region, platform, version).
fn by_slice(
    m: &loadgen::Manifest,
    from: i64,
    to: i64,
) -> BTreeMap<(String, String, String), SreCounts> {
    let mut out: BTreeMap<_, SreCounts> = BTreeMap::new();
    for (k, c) in m.sre_counts() {
        if k.minute_ms >= from && k.minute_ms < to {
            let slice = (k.region, k.device_platform, k.app_version);
            out.entry(slice).or_default().add(c);
        }
    }
    out
}

#[test]
fn the_release_fails_its_own_slice_and_no_other() {
    let c = cfg(true);
    let g = generate(&c).unwrap();
    let (start, end) = c.bad_release_interval_ms().unwrap();
    let during = by_slice(&g.manifest, start, end);
    let slice = (SLICE.0.into(), SLICE.1.into(), SLICE.2.into());
    let bad = during[&slice];
    let failure = bad.rate(IncidentKind::PlaybackFailures);
    let vsf = bad.rate(IncidentKind::VideoStartFailures);
    assert!(bad.attempts >= 40, "retries make attempts dense: {bad:?}");
    assert!(failure > 0.5 && vsf > 0.4, "{failure} {vsf} {bad:?}");
    assert!(bad.rate(IncidentKind::RebufferStarts) > 0.5, "{bad:?}");
    for (other, counts) in &during {
        if *other != slice && counts.attempts >= 10 {
            let r = counts.rate(IncidentKind::VideoStartFailures);
            assert!(r < 0.2, "{other:?} {r} {counts:?}");
        }
    }
    let after = by_slice(&g.manifest, end + 60_000, i64::MAX);
    if let Some(a) = after.get(&slice).filter(|a| a.attempts >= 10) {
        assert!(a.rate(IncidentKind::VideoStartFailures) < 0.2, "{a:?}");
    }
}

#[test]
fn before_the_release_the_traffic_is_as_without_it() {
    let with = generate(&cfg(true)).unwrap();
    let without = generate(&cfg(false)).unwrap();
    let (start, _) = cfg(true).bad_release_interval_ms().unwrap();
    let before = |m: &loadgen::Manifest| {
        m.lines
            .iter()
            .filter(|l| l.event_time_ms < start)
            .map(|l| l.event_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(before(&with.manifest), before(&without.manifest));
    assert_ne!(with.manifest.lines.len(), without.manifest.lines.len());
}

#[test]
fn a_failed_start_is_an_error_then_the_end_then_a_retry() {
    let g = generate(&cfg(true)).unwrap();
    let lines = &g.manifest.lines;
    let failed: Vec<_> = lines
        .iter()
        .filter(|l| l.error_code.as_deref() == Some("VIDEO_START_FAILED"))
        .collect();
    assert!(!failed.is_empty());
    for f in failed.iter().take(50) {
        let session: Vec<_> = lines
            .iter()
            .filter(|l| l.session_id == f.session_id)
            .collect();
        let kinds: Vec<EventType> = session.iter().map(|l| l.event_type).collect();
        assert_eq!(
            kinds,
            [
                EventType::SessionStart,
                EventType::Error,
                EventType::SessionEnd
            ],
            "{}",
            f.session_id
        );
        assert_eq!(session[2].watched_ms, Some(0));
    }
    // The viewer tries the same title again a few seconds later (unless it
    // was the last of its attempts).
    let retried = failed
        .iter()
        .filter(|f| {
            lines.iter().any(|l| {
                l.viewer_id == f.viewer_id
                    && l.title_id == f.title_id
                    && l.event_type == EventType::SessionStart
                    && (2_000..7_000).contains(&(l.event_time_ms - f.event_time_ms))
            })
        })
        .count();
    assert!(
        retried * 10 >= failed.len() * 6,
        "{retried} of {}",
        failed.len()
    );
}

#[test]
fn healthy_builds_fail_about_one_start_in_a_hundred() {
    let g = generate(&cfg(false)).unwrap();
    let mut all = SreCounts::default();
    for c in g.manifest.sre_counts().values() {
        all.add(*c);
    }
    let vsf = all.rate(IncidentKind::VideoStartFailures);
    let fatal = all.rate(IncidentKind::PlaybackFailures);
    assert!((0.002..0.04).contains(&vsf), "{vsf} {all:?}");
    assert!(fatal < 0.2, "{fatal} {all:?}");
}
