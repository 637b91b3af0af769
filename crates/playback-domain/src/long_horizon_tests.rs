use super::*;
use crate::catalogue::{Title, TitleKind};
use crate::record::{decode_record, Clock};
use crate::OwnedEvent;

const DAY: i64 = 86_400_000;
/// 2026-11-23T00:00:00Z.
const T0: i64 = 1_795_392_000_000;

fn catalogue() -> Catalogue {
    let t = |id: &str, genre: &str, kind, minutes: i64| Title {
        title_id: id.into(),
        genre: genre.into(),
        kind,
        duration_ms: minutes * 60_000,
        release_day: "2026-01-01".into(),
    };
    Catalogue::new([
        t("song", "music", TitleKind::Track, 3),
        t("film", "drama", TitleKind::Film, 100),
        t("ep", "comedy", TitleKind::Episode, 30),
    ])
}

#[allow(clippy::too_many_arguments)]
fn ev(
    id: &str,
    session: &str,
    title: &str,
    t: i64,
    watched: i64,
    pos: i64,
    device: &str,
) -> OwnedEvent {
    let time = crate::event::format_rfc3339_ms(t);
    let json = format!(
        r#"{{"event_id":"{id}","event_type":"heartbeat","event_time":"{time}","viewer_id":"v1","session_id":"{session}","title_id":"{title}","region":"eu","watched_ms":{watched},"position_ms":{pos},"device_platform":"{device}"}}"#
    );
    let d = decode_record(json.as_bytes(), Clock::at(i64::MAX / 4));
    d.into_iter().next().unwrap().result.unwrap().into_owned()
}

fn run(events: &[(OwnedEvent, i64)], as_of: i64) -> BTreeMap<String, LongHorizonFeatures> {
    compute(events.iter().map(|(e, a)| (e, *a)), &catalogue(), as_of)
}

#[test]
fn shares_completion_device_daypart_and_days() {
    let evs = [
        // Day 1, 20:00: a song played to the end on the phone.
        (
            ev(
                "a",
                "s1",
                "song",
                T0 + 20 * 3_600_000,
                170_000,
                170_000,
                "ios",
            ),
            T0 + DAY,
        ),
        // Day 2, 09:00: 30 min of a film on the tv, not completed.
        (
            ev(
                "b",
                "s2",
                "film",
                T0 + DAY + 9 * 3_600_000,
                1_800_000,
                1_800_000,
                "tv",
            ),
            T0 + 2 * DAY,
        ),
        // An uncatalogued title counts for watched time, not for genres or plays.
        (
            ev("c", "s2", "nope", T0 + DAY + 10 * 3_600_000, 1_000, 0, "tv"),
            T0 + 2 * DAY,
        ),
    ];
    let f = &run(&evs, T0 + 3 * DAY)["v1"];
    assert_eq!(
        f.top_genres,
        vec![
            GenreShare {
                genre: "drama".into(),
                share_bp: 9_137
            },
            GenreShare {
                genre: "music".into(),
                share_bp: 862
            },
        ]
    );
    assert_eq!((f.plays, f.completion_bp), (2, Some(5_000)));
    assert_eq!(f.preferred_device.as_deref(), Some("tv"));
    assert_eq!(f.preferred_daypart.as_deref(), Some("morning"));
    assert_eq!((f.active_days, f.watched_ms), (2, 1_971_000));
}

#[test]
fn the_window_is_thirty_days_of_event_time_that_arrived_before_the_cutoff() {
    let as_of = T0 + 40 * DAY;
    let evs = [
        (
            ev("old", "s1", "song", as_of - WINDOW_MS - 1, 1_000, 0, "tv"),
            as_of - WINDOW_MS,
        ),
        (
            ev("in", "s2", "song", as_of - WINDOW_MS, 2_000, 0, "tv"),
            as_of - WINDOW_MS,
        ),
        // Happened before the cutoff but arrived after it: a later run's.
        (
            ev("late", "s3", "film", as_of - 1_000, 4_000, 0, "tv"),
            as_of,
        ),
        (ev("after", "s4", "film", as_of, 8_000, 0, "tv"), as_of + 1),
    ];
    let f = &run(&evs, as_of)["v1"];
    assert_eq!((f.watched_ms, f.plays, f.as_of_ms), (2_000, 1, as_of));
    assert!(run(&evs, as_of - WINDOW_MS).is_empty());
}

#[test]
fn ties_go_to_the_name_and_at_most_three_genres_are_kept() {
    let mut cat: Vec<Title> = catalogue().titles().into_iter().cloned().collect();
    for g in ["kids", "thriller"] {
        cat.push(Title {
            title_id: g.into(),
            genre: g.into(),
            kind: TitleKind::Episode,
            duration_ms: 600_000,
            release_day: "2026-01-01".into(),
        });
    }
    let cat = Catalogue::new(cat);
    let evs: Vec<(OwnedEvent, i64)> = ["thriller", "kids", "song", "ep"]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                ev(
                    &format!("e{i}"),
                    "s",
                    t,
                    T0,
                    1_000,
                    0,
                    if i % 2 == 0 { "web" } else { "ios" },
                ),
                T0,
            )
        })
        .collect();
    let f = &compute(evs.iter().map(|(e, a)| (e, *a)), &cat, T0 + 1)["v1"];
    let names: Vec<&str> = f.top_genres.iter().map(|g| g.genre.as_str()).collect();
    assert_eq!(names, ["comedy", "kids", "music"]);
    assert!(f.top_genres.iter().all(|g| g.share_bp == 2_500));
    assert_eq!(f.preferred_device.as_deref(), Some("ios"));
}

#[test]
fn the_served_run_is_the_last_published_by_then() {
    let run = |as_of: i64, published: i64| Run {
        as_of_ms: as_of,
        published_ms: published,
        features: BTreeMap::new(),
    };
    let h = RunHistory::new(vec![
        run(2 * DAY, 2 * DAY + 3_600_000),
        run(DAY, DAY + 3_600_000),
    ]);
    assert!(h.served_at(DAY + 3_599_999).is_none());
    assert_eq!(h.served_at(DAY + 3_600_000).unwrap().as_of_ms, DAY);
    assert_eq!(
        h.served_at(2 * DAY + 1).unwrap().as_of_ms,
        DAY,
        "cut off, not yet published"
    );
    assert_eq!(h.served_at(3 * DAY).unwrap().as_of_ms, 2 * DAY);
}

#[test]
fn dayparts() {
    assert_eq!(daypart(T0), "night");
    assert_eq!(daypart(T0 + 6 * 3_600_000), "morning");
    assert_eq!(daypart(T0 + 12 * 3_600_000), "afternoon");
    assert_eq!(daypart(T0 + 23 * 3_600_000), "evening");
}
