//! Long-horizon viewer features: what a viewer watched over the last 30 days,
//! computed in batch (Athena over the canonical table:
//! infra/athena/features/long_horizon.sql) and pushed slowly to the online
//! store. This module is the definition; the SQL is tested against it on the
//! same rows. Integers only (basis points), so both engines agree exactly.
//!
//! A run at `as_of` sees the events with `as_of - 30 d <= event_time < as_of`
//! that had arrived before `as_of`: re-running it later (after late events
//! landed) gives the same answer, so a training row can name the run it used.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::catalogue::{completes, Catalogue};
use crate::event::PlaybackEvent;

pub const WINDOW_DAYS: i64 = 30;
pub const WINDOW_MS: i64 = WINDOW_DAYS * 86_400_000;
/// Genres kept per viewer, by share of watched time.
pub const TOP_GENRES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenreShare {
    pub genre: String,
    /// Share of the viewer's catalogued watched time, in basis points (floor).
    pub share_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongHorizonFeatures {
    pub viewer_id: String,
    /// The run's cutoff (epoch ms): only events before it count.
    pub as_of_ms: i64,
    /// At most [`TOP_GENRES`], largest share first, then by name.
    pub top_genres: Vec<GenreShare>,
    /// Plays: distinct (session, title) pairs of catalogued titles.
    pub plays: u32,
    /// Completed plays / plays in basis points (floor); None without plays.
    pub completion_bp: Option<u32>,
    /// The device (then the daypart) with the most watched time; ties by name.
    pub preferred_device: Option<String>,
    pub preferred_daypart: Option<String>,
    /// Distinct UTC days with an event.
    pub active_days: u32,
    pub watched_ms: u64,
}

/// The UTC daypart of an instant: night [0, 6), morning [6, 12),
/// afternoon [12, 18), evening [18, 24).
pub fn daypart(event_time_ms: i64) -> &'static str {
    match event_time_ms.rem_euclid(86_400_000) / 3_600_000 {
        0..=5 => "night",
        6..=11 => "morning",
        12..=17 => "afternoon",
        _ => "evening",
    }
}

/// Whether a run at `as_of_ms` sees an event.
pub fn in_window(event_time_ms: i64, arrival_ms: i64, as_of_ms: i64) -> bool {
    event_time_ms >= as_of_ms - WINDOW_MS && event_time_ms < as_of_ms && arrival_ms < as_of_ms
}

#[derive(Default)]
struct Acc<'e> {
    watched: u64,
    genres: HashMap<&'e str, u64>,
    devices: HashMap<&'e str, u64>,
    dayparts: HashMap<&'static str, u64>,
    days: BTreeSet<i64>,
    /// Furthest position and duration of each (session, title) play.
    plays: HashMap<(&'e str, &'e str), (Option<i64>, i64)>,
}

/// The argmax of watched time, ties by name.
fn preferred<K: AsRef<str>>(m: &HashMap<K, u64>) -> Option<String> {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.as_ref().cmp(a.0.as_ref())))
        .map(|(k, _)| k.as_ref().to_string())
}

/// The features of every viewer with an event in the run's window. Each event
/// must appear once (the canonical table's rows: one per event_id).
pub fn compute<'e, I>(
    events: I,
    catalogue: &'e Catalogue,
    as_of_ms: i64,
) -> BTreeMap<String, LongHorizonFeatures>
where
    I: IntoIterator<Item = (&'e PlaybackEvent<'e>, i64)>,
{
    let mut acc: HashMap<&'e str, Acc<'e>> = HashMap::new();
    for (e, arrival_ms) in events {
        if !in_window(e.event_time_ms, arrival_ms, as_of_ms) {
            continue;
        }
        let a = acc.entry(e.viewer_id.as_ref()).or_default();
        let watched = e.watched_ms.unwrap_or(0).max(0) as u64;
        a.watched += watched;
        a.days.insert(e.event_time_ms.div_euclid(86_400_000));
        *a.dayparts.entry(daypart(e.event_time_ms)).or_default() += watched;
        if let Some(d) = e.device_platform.as_deref() {
            *a.devices.entry(d).or_default() += watched;
        }
        if let Some(t) = catalogue.get(&e.title_id) {
            *a.genres.entry(t.genre.as_str()).or_default() += watched;
            let key = (e.session_id.as_ref(), e.title_id.as_ref());
            let play = a.plays.entry(key).or_insert((None, t.duration_ms));
            play.0 = play.0.max(e.position_ms);
        }
    }
    acc.into_iter()
        .map(|(viewer, a)| {
            let total: u64 = a.genres.values().sum();
            let mut genres: Vec<(&str, u64)> = a
                .genres
                .iter()
                .filter(|(_, ms)| **ms > 0)
                .map(|(g, ms)| (*g, *ms))
                .collect();
            genres.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(y.0)));
            let top_genres = genres
                .into_iter()
                .take(TOP_GENRES)
                .map(|(g, ms)| GenreShare {
                    genre: g.to_string(),
                    share_bp: (ms * 10_000 / total) as u32,
                })
                .collect();
            let plays = a.plays.len() as u32;
            let completed = a
                .plays
                .values()
                .filter(|(pos, dur)| pos.is_some_and(|p| completes(p, *dur)))
                .count() as u32;
            let f = LongHorizonFeatures {
                viewer_id: viewer.to_string(),
                as_of_ms,
                top_genres,
                plays,
                completion_bp: (plays > 0).then(|| completed * 10_000 / plays),
                preferred_device: preferred(&a.devices),
                preferred_daypart: preferred(&a.dayparts),
                active_days: a.days.len() as u32,
                watched_ms: a.watched,
            };
            (f.viewer_id.clone(), f)
        })
        .collect()
}

/// One published run: its cutoff, when the online store got it, and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub as_of_ms: i64,
    /// When the run's features reached the online store: the recommender
    /// could use them from then on, and not before.
    pub published_ms: i64,
    pub features: BTreeMap<String, LongHorizonFeatures>,
}

/// The runs a training join may use, ordered by publication. A label at time
/// `t` takes the last run published at or before `t`: the features the
/// recommender served then, never one computed later.
#[derive(Debug, Clone, Default)]
pub struct RunHistory {
    runs: Vec<Run>,
}

impl RunHistory {
    pub fn new(mut runs: Vec<Run>) -> Self {
        runs.sort_by_key(|r| (r.published_ms, r.as_of_ms));
        RunHistory { runs }
    }

    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// The run served at `t` (epoch ms), if any was published by then.
    pub fn served_at(&self, t: i64) -> Option<&Run> {
        let n = self.runs.partition_point(|r| r.published_ms <= t);
        n.checked_sub(1).map(|i| &self.runs[i])
    }

    /// The viewer's features as served at `t`: from the run served then (a
    /// viewer absent from it had no events in its window).
    pub fn features_at(&self, viewer: &str, t: i64) -> Option<&LongHorizonFeatures> {
        self.served_at(t)?.features.get(viewer)
    }
}

#[cfg(test)]
#[path = "long_horizon_tests.rs"]
mod tests;
