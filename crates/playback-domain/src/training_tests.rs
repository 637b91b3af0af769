use super::*;
use crate::catalogue::{Title, TitleKind};
use crate::long_horizon::{compute, Run};
use crate::record::{decode_record, Clock};
use crate::OwnedEvent;

const T0: i64 = 1_795_392_000_000;

fn ev(id: &str, kind: &str, session: &str, t: i64, pos: i64) -> OwnedEvent {
    let time = crate::event::format_rfc3339_ms(t);
    let json = format!(
        r#"{{"event_id":"{id}","event_type":"{kind}","event_time":"{time}","viewer_id":"v1","session_id":"{session}","title_id":"song","region":"eu","watched_ms":60000,"position_ms":{pos},"device_platform":"tv"}}"#
    );
    let d = decode_record(json.as_bytes(), Clock::at(i64::MAX / 4));
    d.into_iter().next().unwrap().result.unwrap().into_owned()
}

fn pos(seq: u32) -> StreamPosition {
    StreamPosition::new(&seq.to_string(), 0).unwrap()
}

fn catalogue() -> Catalogue {
    Catalogue::new([Title {
        title_id: "song".into(),
        genre: "music".into(),
        kind: TitleKind::Track,
        duration_ms: 200_000,
        release_day: "2026-01-01".into(),
    }])
}

/// Two sessions of one viewer: a completed play with a retried save, then a
/// skipped one.
fn two_sessions() -> [(OwnedEvent, StreamPosition); 8] {
    [
        (ev("a", "session_start", "s1", T0, 0), pos(1)),
        (ev("b", "heartbeat", "s1", T0 + 60_000, 185_000), pos(2)),
        (ev("c", "save", "s1", T0 + 61_000, 185_000), pos(3)),
        // The producer sent the save again: new position, same event.
        (ev("c", "save", "s1", T0 + 61_000, 185_000), pos(4)),
        (ev("d", "session_end", "s1", T0 + 62_000, 185_000), pos(5)),
        (ev("e", "session_start", "s2", T0 + 70_000, 0), pos(6)),
        (ev("f", "skip", "s2", T0 + 71_000, 1_000), pos(7)),
        (ev("g", "session_end", "s2", T0 + 72_000, 1_000), pos(8)),
    ]
}

#[test]
fn a_row_per_label_with_the_state_before_it_and_no_row_for_a_retry() {
    let evs = two_sessions();
    let runs = RunHistory::default();
    let rows = training_rows(evs.iter().map(|(e, p)| (e, p)), &catalogue(), &runs);
    let labels: Vec<(&str, &str, Option<bool>)> = rows
        .iter()
        .map(|r| (r.event_id.as_str(), r.label, r.completed))
        .collect();
    assert_eq!(
        labels,
        [
            ("c", "save", None),
            ("d", "session_end", Some(true)),
            ("f", "skip", None),
            ("g", "session_end", Some(false)),
        ]
    );
    // Just after "b": two events folded, no save counted yet.
    let save = &rows[0].session;
    assert_eq!((save.events_applied, save.session_saves), (2, 0));
    assert_eq!(save.last_position, None, "bookkeeping is not a feature");
    assert_eq!(rows[1].session.session_saves, 1, "the retry counted once");
    assert_eq!(rows[2].session.current_session.as_deref(), Some("s2"));
}

#[test]
fn long_horizon_features_come_from_the_run_served_at_the_label() {
    let day = 86_400_000;
    let evs = [
        (ev("a", "session_start", "s1", T0, 0), pos(1)),
        (ev("b", "skip", "s1", T0 + 2 * day, 10), pos(2)),
        (ev("c", "skip", "s1", T0 + 3 * day, 10), pos(3)),
    ];
    let at = |as_of: i64| Run {
        as_of_ms: as_of,
        published_ms: as_of + 3_600_000,
        features: compute(
            evs.iter().map(|(e, _)| (e, e.event_time_ms)),
            &catalogue(),
            as_of,
        ),
    };
    // A run at T0 + 3 d is published an hour later, after "c".
    let runs = RunHistory::new(vec![at(T0 + day), at(T0 + 3 * day)]);
    let rows = training_rows(evs.iter().map(|(e, p)| (e, p)), &catalogue(), &runs);
    let as_of: Vec<Option<i64>> = rows
        .iter()
        .map(|r| r.long_horizon.as_ref().map(|f| f.as_of_ms))
        .collect();
    assert_eq!(as_of, [Some(T0 + day), Some(T0 + day)]);
    assert_eq!(rows[0].long_horizon.as_ref().unwrap().plays, 1);
    let no_runs = training_rows(
        evs.iter().map(|(e, p)| (e, p)),
        &catalogue(),
        &RunHistory::default(),
    );
    assert!(no_runs.iter().all(|r| r.long_horizon.is_none()));
}

#[test]
fn a_build_in_slices_carrying_its_state_gives_the_one_pass_rows() {
    let evs = two_sessions();
    let runs = RunHistory::default();
    let whole = training_rows(evs.iter().map(|(e, p)| (e, p)), &catalogue(), &runs);
    for cut in 1..evs.len() {
        let mut state = TrainingState::default();
        let (first, rest) = evs.split_at(cut);
        let mut rows = training_rows_from(
            &mut state,
            first.iter().map(|(e, p)| (e, p)),
            &catalogue(),
            &runs,
        );
        // The state survives being stored between the slices.
        let json = serde_json::to_string(&state).unwrap();
        let mut state: TrainingState = serde_json::from_str(&json).unwrap();
        rows.extend(training_rows_from(
            &mut state,
            rest.iter().map(|(e, p)| (e, p)),
            &catalogue(),
            &runs,
        ));
        assert_eq!(rows, whole, "cut after {cut} events");
    }
}
