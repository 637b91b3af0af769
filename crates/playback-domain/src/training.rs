//! Point-in-time training rows: one per label event (skip, save, session
//! end), with the features the recommender was serving just before it.
//!
//! - Session features: the viewer's events replayed in stream order through
//!   the very fold the session-features Lambda runs
//!   ([`ViewerFeatures::apply`]); a row holds the state just after the
//!   viewer's previous event, which is what the online store held.
//! - Long-horizon features: from the last batch run published at or before
//!   the label's event time ([`RunHistory::features_at`]), never a later one.
//!
//! Rows are keyed on event_id: an event the fold has seen (a producer retry,
//! a redelivery) makes no second row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalogue::{completes, Catalogue};
use crate::event::{EventType, PlaybackEvent};
use crate::features::ViewerFeatures;
use crate::long_horizon::{LongHorizonFeatures, RunHistory};
use crate::position::StreamPosition;

/// The event types a training row is made for.
pub const LABEL_EVENTS: [EventType; 3] = [EventType::Skip, EventType::Save, EventType::SessionEnd];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingRow {
    pub event_id: String,
    /// `skip`, `save` or `session_end`.
    pub label: &'static str,
    /// For `session_end`: whether the play reached 90 % of the title
    /// ([`completes`] on its furthest position); None for other labels or an
    /// uncatalogued title.
    pub completed: Option<bool>,
    pub viewer_id: String,
    pub session_id: String,
    pub title_id: String,
    pub event_time_ms: i64,
    /// The online item's session features just before the label (see [`served`]).
    pub session: ViewerFeatures,
    pub long_horizon: Option<LongHorizonFeatures>,
}

/// What the recommender reads of a viewer's session item: the features,
/// without the stream's replay bookkeeping (stream position, recent event
/// id hashes), which differs between a stream with retries and a replay of
/// the canonical table by design.
pub fn served(f: &ViewerFeatures) -> ViewerFeatures {
    ViewerFeatures {
        last_position: None,
        recent_event_hashes: Vec::new(),
        ..f.clone()
    }
}

/// What a training build carries from one slice of the stream to the next
/// (a day of arrivals, say): every viewer's fold state and the furthest
/// position of each open play. The fold's lifetime counters need a viewer's
/// whole history, so a build that starts from the previous slice's end state
/// gives the rows one pass over everything would.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingState {
    pub viewers: BTreeMap<String, ViewerFeatures>,
    /// `viewer_id session_id title_id` -> furthest position_ms.
    pub open_plays: BTreeMap<String, i64>,
}

fn play_key(e: &PlaybackEvent<'_>) -> String {
    format!("{} {} {}", e.viewer_id, e.session_id, e.title_id)
}

/// The training rows of `events`, given in stream order (per shard; a viewer
/// never spans shards) and starting from nothing: the fold needs a viewer's
/// whole history for its lifetime counters.
pub fn training_rows<'e, I>(events: I, catalogue: &Catalogue, runs: &RunHistory) -> Vec<TrainingRow>
where
    I: IntoIterator<Item = (&'e PlaybackEvent<'e>, &'e StreamPosition)>,
{
    training_rows_from(&mut TrainingState::default(), events, catalogue, runs)
}

/// [`training_rows`] continuing from `state`, which it leaves at the end of
/// `events`. A repeat of an event the fold already absorbed makes no row
/// (the fold recognises it by its recent event ids).
pub fn training_rows_from<'e, I>(
    state: &mut TrainingState,
    events: I,
    catalogue: &Catalogue,
    runs: &RunHistory,
) -> Vec<TrainingRow>
where
    I: IntoIterator<Item = (&'e PlaybackEvent<'e>, &'e StreamPosition)>,
{
    let mut rows = Vec::new();
    for (e, pos) in events {
        let viewer: &str = e.viewer_id.as_ref();
        let f = state
            .viewers
            .entry(viewer.to_string())
            .or_insert_with(|| ViewerFeatures::new(viewer));
        let before = served(f);
        f.apply(e, pos);
        if f.events_applied == before.events_applied {
            continue;
        }
        let play = play_key(e);
        if let Some(p) = e.position_ms {
            let at = state.open_plays.entry(play.clone()).or_insert(p);
            *at = (*at).max(p);
        }
        if !LABEL_EVENTS.contains(&e.event_type) {
            continue;
        }
        let completed = (e.event_type == EventType::SessionEnd)
            .then(|| catalogue.get(&e.title_id))
            .flatten()
            .map(|t| {
                state
                    .open_plays
                    .get(&play)
                    .is_some_and(|p| completes(*p, t.duration_ms))
            });
        if e.event_type == EventType::SessionEnd {
            state.open_plays.remove(&play);
        }
        rows.push(TrainingRow {
            event_id: e.event_id.to_string(),
            label: e.event_type.as_str(),
            completed,
            viewer_id: viewer.to_string(),
            session_id: e.session_id.to_string(),
            title_id: e.title_id.to_string(),
            event_time_ms: e.event_time_ms,
            session: before,
            long_horizon: runs.features_at(viewer, e.event_time_ms).cloned(),
        });
    }
    rows
}

#[cfg(test)]
#[path = "training_tests.rs"]
mod tests;
