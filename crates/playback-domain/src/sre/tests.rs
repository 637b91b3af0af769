use super::incident::{step, Action, IncidentState};
use super::*;

fn counts(attempts: u64, fatal: u64, session_min: u64, rebuffers: u64) -> SreCounts {
    SreCounts {
        attempts,
        fatal_errors: fatal,
        start_failures: 0,
        rebuffer_starts: rebuffers,
        session_ms: session_min * 60_000,
        events: attempts + fatal + rebuffers,
    }
}

fn signal(rule: &SreRule, now: &SreCounts, base: &SreCounts, kind: IncidentKind) -> Signal {
    *rule
        .judge(now, base)
        .iter()
        .find(|s| s.kind == kind)
        .unwrap()
}

#[test]
fn fatal_codes_and_rates() {
    let e = |code| SreCounts::of_fields(EventType::Error, code, None, None);
    assert_eq!(e(Some("DECODER_ERROR")).fatal_errors, 1);
    assert_eq!(e(Some("DECODER_ERROR")).start_failures, 0);
    assert_eq!(e(Some("MANIFEST_404")).start_failures, 1);
    assert_eq!(
        e(Some("CDN_TIMEOUT")).fatal_errors,
        0,
        "retried by the player"
    );
    assert_eq!(e(None).fatal_errors, 0);
    let hb = SreCounts::of_fields(EventType::Heartbeat, None, Some(9_000), Some(1_000));
    assert_eq!((hb.session_ms, hb.attempts), (10_000, 0));
    let c = counts(40, 4, 30, 15);
    assert_eq!(c.rate(IncidentKind::PlaybackFailures), 0.1);
    assert_eq!(c.rate(IncidentKind::RebufferStarts), 0.5);
    assert_eq!(
        SreCounts::default().rate(IncidentKind::PlaybackFailures),
        0.0
    );
    assert!(feeds_sre(EventType::SessionStart) && feeds_sre(EventType::Heartbeat));
    assert!(!feeds_sre(EventType::Pause));
}

#[test]
fn floor_applies_when_the_baseline_is_clean() {
    let rule = SreRule::default();
    // 2 failures in 40 attempts against a spotless baseline: 5 %, not above the floor.
    let s = signal(
        &rule,
        &counts(40, 2, 0, 0),
        &counts(400, 0, 0, 0),
        IncidentKind::PlaybackFailures,
    );
    assert_eq!(s.threshold, rule.failure_rate_floor);
    assert!(!s.breached);
    // 3 in 40 (7.5 %) is above the floor but could be luck at this sample;
    // 10 in 40 is not.
    let s = signal(
        &rule,
        &counts(40, 3, 0, 0),
        &counts(400, 0, 0, 0),
        IncidentKind::PlaybackFailures,
    );
    assert!(s.rate > s.threshold && s.lower_bound < s.threshold && !s.breached);
    let s = signal(
        &rule,
        &counts(40, 10, 0, 0),
        &counts(400, 0, 0, 0),
        IncidentKind::PlaybackFailures,
    );
    assert!(s.breached, "{s:?}");
}

#[test]
fn the_bounds_discount_small_samples() {
    let z = 3.0;
    // 2 in 20 at a 1 % baseline is a fluke some slice shows every few minutes.
    assert!(wilson_lower(2.0, 20.0, z) < 0.05);
    assert!(wilson_lower(10.0, 20.0, z) > 0.2);
    // The same proportion is surer with more attempts, never above itself.
    let (small, big) = (
        wilson_lower(10.0, 100.0, z),
        wilson_lower(100.0, 1_000.0, z),
    );
    assert!(small < big && big < 0.1);
    assert_eq!(wilson_lower(0.0, 0.0, z), 0.0);
    assert!(
        wilson_lower(30.0, 20.0, z) <= 1.0,
        "capped at every attempt failing"
    );
    // Rebuffers: 5 in 20 session-minutes proves nothing; 70 proves > 2 a minute.
    assert_eq!(poisson_lower(2.0, 20.0, z), 0.0);
    assert!(poisson_lower(5.0, 20.0, z) < 0.25 * 0.5);
    assert!(poisson_lower(70.0, 20.0, z) > 2.0);
    assert_eq!(poisson_lower(10.0, 0.0, z), 0.0);
}

#[test]
fn minimum_sample_keeps_a_tiny_slice_quiet() {
    let rule = SreRule::default();
    let s = signal(
        &rule,
        &counts(5, 5, 0, 0),
        &counts(0, 0, 0, 0),
        IncidentKind::PlaybackFailures,
    );
    assert_eq!(s.rate, 1.0);
    assert!(!s.breached, "5 attempts < min_attempts");
    let s = signal(
        &rule,
        &counts(0, 0, 5, 50),
        &counts(0, 0, 0, 0),
        IncidentKind::RebufferStarts,
    );
    assert!(!s.breached, "5 session-minutes < min_session_minutes");
}

#[test]
fn big_healthy_slice_does_not_page_on_a_normal_minute() {
    let rule = SreRule::default();
    // us-east/web: 5 000 attempts a minute at its usual 4 % (200 failures),
    // a loud absolute count that is its normal rate; 20 000 session-minutes
    // at its usual 0.3 rebuffers per minute.
    let base = counts(50_000, 2_000, 200_000, 60_000);
    let now = counts(5_000, 230, 20_000, 6_500);
    assert!(rule.judge(&now, &base).iter().all(|s| !s.breached));
}

#[test]
fn big_slice_pages_on_a_rise_over_its_own_baseline() {
    let rule = SreRule::default();
    let base = counts(50_000, 2_000, 200_000, 60_000);
    let now = counts(5_000, 500, 20_000, 6_500); // 10 % vs 4 % x 2
    let s = signal(&rule, &now, &base, IncidentKind::PlaybackFailures);
    assert!(s.breached, "{s:?}");
    assert!((s.threshold - 0.08).abs() < 1e-9);
}

#[test]
fn small_bad_slice_pages() {
    let rule = SreRule::default();
    // eu/tv/5.4.0-beta: 30 attempts, 12 fatal, against a normal history.
    let s = signal(
        &rule,
        &counts(30, 12, 0, 0),
        &counts(300, 3, 0, 0),
        IncidentKind::PlaybackFailures,
    );
    assert!(s.breached);
}

fn key(minute: i64) -> SreKey {
    SreKey {
        minute_ms: minute * 60_000,
        region: "eu".into(),
        device_platform: "tv".into(),
        app_version: "5.4.0-beta".into(),
    }
}

fn sig(rate: f64, breached: bool) -> Signal {
    Signal {
        kind: IncidentKind::PlaybackFailures,
        rate,
        baseline_rate: 0.01,
        threshold: 0.05,
        sample: 30.0,
        lower_bound: rate,
        breached,
    }
}

#[test]
fn lifecycle_opens_updates_resolves_and_reopens_only_on_a_new_breach() {
    let rule = SreRule::default();
    let Action::Open(i) = step(None, &key(10), &sig(0.3, true), &rule, 1) else {
        panic!("a breach opens")
    };
    assert_eq!(
        (i.opened_minute_ms(), i.notified),
        (key(10).minute_ms, false)
    );
    let Action::Update(i) = step(Some(&i), &key(11), &sig(0.5, true), &rule, 2) else {
        panic!("a later breach updates")
    };
    assert_eq!(
        (i.last_breach_minute_ms, i.peak_rate),
        (key(11).minute_ms, 0.5)
    );
    assert_eq!(i.opened_minute_ms(), key(10).minute_ms, "same incident");
    // The same minute again (a redelivery) changes nothing.
    assert_eq!(
        step(Some(&i), &key(11), &sig(0.5, true), &rule, 3),
        Action::Nothing
    );
    // Quiet, but not for long enough.
    assert_eq!(
        step(Some(&i), &key(15), &sig(0.0, false), &rule, 4),
        Action::Nothing
    );
    let Action::Resolve(r) = step(Some(&i), &key(16), &sig(0.0, false), &rule, 5) else {
        panic!("5 quiet minutes resolve")
    };
    assert_eq!(
        (r.state, r.resolved_minute_ms),
        (IncidentState::Resolved, Some(key(16).minute_ms))
    );
    // An old breaching minute redelivered after the resolution: nothing.
    assert_eq!(
        step(Some(&r), &key(11), &sig(0.5, true), &rule, 6),
        Action::Nothing
    );
    assert_eq!(
        step(Some(&r), &key(17), &sig(0.0, false), &rule, 6),
        Action::Nothing
    );
    let Action::Open(again) = step(Some(&r), &key(20), &sig(0.2, true), &rule, 7) else {
        panic!("a new breach re-opens")
    };
    assert_eq!(
        (again.opened_minute_ms(), again.notified),
        (key(20).minute_ms, false)
    );
}
