//! Per-viewer session features for the recommender. The same `apply` serves
//! the stream consumer and the lake backfill, so training and serving agree.
//!
//! Replay safety: every viewer remembers the stream position of the last event
//! it absorbed; an event at or before it is ignored, so a replayed batch (or a
//! retried half of a bisected one) changes nothing.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::event::{EventType, PlaybackEvent};
use crate::metrics::stable_hash;
use crate::ports::{FeatureStore, PortError, PortResult, SaveOutcome};
use crate::position::StreamPosition;
use crate::qoe::FastHash;

pub const RECENT_TITLES: usize = 10;
/// Event ids remembered per viewer (as [`event_id_hash`]es) to drop producer
/// retries (which arrive as new records, at new positions, usually seconds
/// apart).
pub const RECENT_EVENT_IDS: usize = 32;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerFeatures {
    pub viewer_id: String,
    /// Most recent first, distinct, at most [`RECENT_TITLES`].
    pub recent_titles: Vec<String>,
    pub current_title: Option<String>,
    pub current_session: Option<String>,
    pub session_skips: u64,
    pub session_saves: u64,
    pub session_watched_ms: u64,
    pub session_stalled_ms: u64,
    pub lifetime_watched_ms: u64,
    pub lifetime_stalled_ms: u64,
    pub last_event_time_ms: i64,
    pub device_platform: Option<String>,
    pub events_applied: u64,
    /// [`StreamPosition::sortable`] of the last absorbed event.
    pub last_position: Option<String>,
    /// [`event_id_hash`] of the last absorbed event ids, newest last, at most
    /// [`RECENT_EVENT_IDS`]. 8 bytes each instead of a ~36-byte id keeps the
    /// stored item under 1 KB (one DynamoDB write unit per save).
    pub recent_event_hashes: Vec<u64>,
}

/// The hash an event id is remembered by: 64-bit FNV-1a
/// ([`stable_hash`]), fully specified, so the same on every Lambda instance,
/// in the backfill and across releases (the hashes are stored; never use
/// std's randomly seeded hasher here). With 32 ids per viewer, a distinct
/// event is wrongly taken for a retry with probability ~32 / 2^64 ~ 1.7e-18.
pub fn event_id_hash(event_id: &str) -> u64 {
    stable_hash(&[event_id])
}

impl ViewerFeatures {
    pub fn new(viewer_id: &str) -> Self {
        ViewerFeatures {
            viewer_id: viewer_id.to_string(),
            ..Default::default()
        }
    }

    /// Absorbs one event; returns false if its position was already absorbed
    /// (replay). A producer retry (same event_id at a new position) only
    /// advances the position.
    pub fn apply(&mut self, e: &PlaybackEvent<'_>, pos: &StreamPosition) -> bool {
        if self
            .last_position
            .as_deref()
            .is_some_and(|last| pos.cmp_sortable(last) != std::cmp::Ordering::Greater)
        {
            return false;
        }
        // Rewritten in place: no allocation per event.
        let last = self.last_position.get_or_insert_with(String::new);
        last.clear();
        pos.write_sortable(last);
        let id_hash = event_id_hash(&e.event_id);
        if self.recent_event_hashes.contains(&id_hash) {
            return true;
        }
        if self.recent_event_hashes.len() >= RECENT_EVENT_IDS {
            let excess = self.recent_event_hashes.len() + 1 - RECENT_EVENT_IDS;
            self.recent_event_hashes.drain(..excess);
        }
        self.recent_event_hashes.push(id_hash);
        self.events_applied += 1;
        let watched = e.watched_ms.unwrap_or(0) as u64;
        let stalled = e.stalled_ms.unwrap_or(0) as u64;
        self.lifetime_watched_ms += watched;
        self.lifetime_stalled_ms += stalled;

        let same_session = self.current_session.as_deref() == Some(e.session_id.as_ref());
        // A late event of an older session counts for lifetime totals only.
        let stale = !same_session && e.event_time_ms < self.last_event_time_ms;
        if stale {
            return true;
        }
        if !same_session {
            self.current_session = Some(e.session_id.to_string());
            self.session_skips = 0;
            self.session_saves = 0;
            self.session_watched_ms = 0;
            self.session_stalled_ms = 0;
        }
        self.session_watched_ms += watched;
        self.session_stalled_ms += stalled;
        match e.event_type {
            EventType::Skip => self.session_skips += 1,
            EventType::Save => self.session_saves += 1,
            _ => {}
        }
        if self.current_title.as_deref() != Some(e.title_id.as_ref()) {
            self.current_title = Some(e.title_id.to_string());
            self.recent_titles.retain(|t| t != e.title_id.as_ref());
            self.recent_titles.insert(0, e.title_id.to_string());
            self.recent_titles.truncate(RECENT_TITLES);
        }
        if let Some(d) = &e.device_platform {
            self.device_platform = Some(d.to_string());
        }
        self.last_event_time_ms = self.last_event_time_ms.max(e.event_time_ms);
        true
    }

    /// Epoch seconds at which DynamoDB may expire this item.
    pub fn expires_at(&self, ttl_secs: i64) -> i64 {
        self.last_event_time_ms / 1000 + ttl_secs
    }
}

/// Folds events (in stream order) into per-viewer features, starting from the
/// stored state. Returns only the viewers that changed, with the previous
/// position each was loaded at (the optimistic-concurrency token).
pub fn fold_features<'e, I>(
    stored: &BTreeMap<String, ViewerFeatures>,
    events: I,
) -> BTreeMap<String, (ViewerFeatures, Option<String>)>
where
    I: IntoIterator<Item = (&'e PlaybackEvent<'e>, &'e StreamPosition)>,
{
    // A hash index into a Vec: the backfill folds millions of viewers, and
    // ordered-map lookups by a 36-byte id were a third of the fold.
    let mut index: HashMap<&'e str, usize, FastHash> = HashMap::default();
    let mut slots: Vec<(ViewerFeatures, Option<String>, bool)> = Vec::new();
    for (e, pos) in events {
        let viewer: &'e str = e.viewer_id.as_ref();
        let i = *index.entry(viewer).or_insert_with(|| {
            let base = stored
                .get(viewer)
                .cloned()
                .unwrap_or_else(|| ViewerFeatures::new(viewer));
            let token = base.last_position.clone();
            slots.push((base, token, false));
            slots.len() - 1
        });
        let slot = &mut slots[i];
        if slot.0.apply(e, pos) {
            slot.2 = true;
        }
    }
    slots
        .into_iter()
        .filter(|(_, _, touched)| *touched)
        .map(|(f, token, _)| (f.viewer_id.clone(), (f, token)))
        .collect()
}

/// Re-reads a conflicting viewer this many times before giving up.
pub const CONFLICT_RETRIES: usize = 3;

/// Folds one viewer's events onto its stored state and writes it once, with
/// the store's optimistic check; on a conflict (another writer moved it)
/// re-reads and re-folds, up to [`CONFLICT_RETRIES`] times. Returns whether
/// anything was written (false: every event was absorbed already). The live
/// function and the backfill both write through it.
pub async fn save_viewer<'e, F: FeatureStore>(
    store: &F,
    viewer: &str,
    mut stored: Option<ViewerFeatures>,
    events: &[(&'e PlaybackEvent<'e>, &'e StreamPosition)],
) -> PortResult<bool> {
    for _ in 0..=CONFLICT_RETRIES {
        let base: BTreeMap<String, ViewerFeatures> = stored
            .take()
            .map(|f| (viewer.to_string(), f))
            .into_iter()
            .collect();
        let folded = fold_features(&base, events.iter().copied());
        let Some((features, token)) = folded.into_values().next() else {
            return Ok(false);
        };
        match store.save(&features, token.as_deref()).await? {
            SaveOutcome::Saved => return Ok(true),
            SaveOutcome::Conflict => {
                stored = store.load(&[viewer.to_string()]).await?.remove(viewer);
            }
        }
    }
    Err(PortError::Unprocessed {
        operation: "features.save",
        detail: format!("{viewer}: still conflicting after {CONFLICT_RETRIES} re-reads"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_record, Clock};

    fn event(
        kind: &str,
        session: &str,
        title: &str,
        t: &str,
        watched: i64,
    ) -> PlaybackEvent<'static> {
        let json = format!(
            r#"{{"event_id":"e-{kind}-{t}","event_type":"{kind}","event_time":"{t}","viewer_id":"v1","session_id":"{session}","title_id":"{title}","region":"eu","watched_ms":{watched},"device_platform":"tv"}}"#
        );
        let d = decode_record(json.as_bytes(), Clock::at(1_795_478_399_999));
        d.into_iter().next().unwrap().result.unwrap().into_owned()
    }

    fn pos(seq: u32) -> StreamPosition {
        StreamPosition::new(&seq.to_string(), 0).unwrap()
    }

    #[test]
    fn session_and_lifetime_counters() {
        let mut f = ViewerFeatures::new("v1");
        f.apply(
            &event("session_start", "s1", "t1", "2026-11-23T10:00:00Z", 0),
            &pos(1),
        );
        f.apply(
            &event("heartbeat", "s1", "t1", "2026-11-23T10:00:10Z", 10_000),
            &pos(2),
        );
        f.apply(
            &event("skip", "s1", "t2", "2026-11-23T10:00:11Z", 0),
            &pos(3),
        );
        f.apply(
            &event("save", "s1", "t2", "2026-11-23T10:00:12Z", 0),
            &pos(4),
        );
        assert_eq!(f.recent_titles, vec!["t2", "t1"]);
        assert_eq!(
            (f.session_skips, f.session_saves, f.session_watched_ms),
            (1, 1, 10_000)
        );
        f.apply(
            &event("heartbeat", "s2", "t1", "2026-11-23T11:00:00Z", 5_000),
            &pos(5),
        );
        assert_eq!(
            (f.session_skips, f.session_watched_ms, f.lifetime_watched_ms),
            (0, 5_000, 15_000)
        );
        assert_eq!(f.recent_titles, vec!["t1", "t2"]);
        assert_eq!(f.device_platform.as_deref(), Some("tv"));
    }

    #[test]
    fn replay_changes_nothing() {
        let evs = [
            (
                event("heartbeat", "s1", "t1", "2026-11-23T10:00:10Z", 1_000),
                pos(7),
            ),
            (
                event("heartbeat", "s1", "t1", "2026-11-23T10:00:20Z", 2_000),
                pos(8),
            ),
        ];
        let once = fold_features(&BTreeMap::new(), evs.iter().map(|(e, p)| (e, p)));
        let stored: BTreeMap<_, _> = once
            .iter()
            .map(|(k, (f, _))| (k.clone(), f.clone()))
            .collect();
        let again = fold_features(&stored, evs.iter().map(|(e, p)| (e, p)));
        assert!(again.is_empty(), "a replayed batch must not produce writes");
        assert_eq!(stored["v1"].lifetime_watched_ms, 3_000);
    }

    #[test]
    fn producer_retry_is_counted_once() {
        let mut f = ViewerFeatures::new("v1");
        let e = event("heartbeat", "s1", "t1", "2026-11-23T10:00:10Z", 1_000);
        assert!(f.apply(&e, &pos(1)));
        assert!(f.apply(&e, &pos(2)), "new position is absorbed");
        assert_eq!((f.lifetime_watched_ms, f.events_applied), (1_000, 1));
    }

    #[test]
    fn retry_is_recognised_among_the_last_32_event_ids_only() {
        let mut f = ViewerFeatures::new("v1");
        let hb = |i: u32| {
            let t = format!("2026-11-23T10:{:02}:{:02}Z", i / 60, i % 60);
            event("heartbeat", "s1", "t1", &t, 1_000)
        };
        let first = hb(0);
        assert!(f.apply(&first, &pos(1)));
        for i in 1..RECENT_EVENT_IDS as u32 {
            assert!(f.apply(&hb(i), &pos(1 + i)));
        }
        assert_eq!(f.recent_event_hashes.len(), RECENT_EVENT_IDS);
        assert_eq!(f.recent_event_hashes[0], event_id_hash(&first.event_id));
        // The oldest remembered id is still a retry: position only.
        let before = f.clone();
        assert!(f.apply(&first, &pos(100)));
        assert_eq!(f.last_position, Some(pos(100).sortable()));
        assert_eq!(
            ViewerFeatures {
                last_position: before.last_position.clone(),
                ..f.clone()
            },
            before
        );
        // One more distinct event pushes it out of the window.
        assert!(f.apply(&hb(40), &pos(101)));
        assert_eq!(f.recent_event_hashes.len(), RECENT_EVENT_IDS);
        assert_eq!(
            f.recent_event_hashes.last(),
            Some(&event_id_hash(&hb(40).event_id))
        );
        assert!(!f
            .recent_event_hashes
            .contains(&event_id_hash(&first.event_id)));
        assert_eq!(f.events_applied, RECENT_EVENT_IDS as u64 + 1);
    }

    #[test]
    fn event_id_hash_is_pinned_fnv1a_64() {
        // Stored in DynamoDB: must never change between releases.
        assert_eq!(event_id_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(event_id_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(event_id_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn late_event_of_old_session_does_not_reset_current_session() {
        let mut f = ViewerFeatures::new("v1");
        f.apply(
            &event("heartbeat", "s2", "t1", "2026-11-23T11:00:00Z", 5_000),
            &pos(1),
        );
        f.apply(
            &event("heartbeat", "s1", "t9", "2026-11-23T09:00:00Z", 7_000),
            &pos(2),
        );
        assert_eq!(f.current_session.as_deref(), Some("s2"));
        assert_eq!(
            (f.session_watched_ms, f.lifetime_watched_ms),
            (5_000, 12_000)
        );
        assert_eq!(f.recent_titles, vec!["t1"]);
    }
}
