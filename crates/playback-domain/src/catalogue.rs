//! The title catalogue: a small dimension (genre, kind, duration, release day)
//! that the long-horizon features and the training labels join on. It comes
//! from the content system; the load generator ships one for its titles.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleKind {
    Film,
    Episode,
    Track,
}

impl TitleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TitleKind::Film => "film",
            TitleKind::Episode => "episode",
            TitleKind::Track => "track",
        }
    }

    /// The kind named by [`TitleKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [TitleKind::Film, TitleKind::Episode, TitleKind::Track]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One row of the catalogue table (`playback.titles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Title {
    pub title_id: String,
    pub genre: String,
    pub kind: TitleKind,
    pub duration_ms: i64,
    /// `YYYY-MM-DD`.
    pub release_day: String,
}

/// A play counts as completed once its furthest position reaches this share
/// of the title's duration, in basis points (integers, so SQL and Rust agree
/// to the unit).
pub const COMPLETION_BP: i64 = 9_000;

/// Whether `position_ms` completes a title of `duration_ms`.
pub fn completes(position_ms: i64, duration_ms: i64) -> bool {
    duration_ms > 0 && position_ms * 10_000 >= duration_ms * COMPLETION_BP
}

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    titles: HashMap<String, Title>,
}

impl Catalogue {
    pub fn new(titles: impl IntoIterator<Item = Title>) -> Self {
        Catalogue {
            titles: titles
                .into_iter()
                .map(|t| (t.title_id.clone(), t))
                .collect(),
        }
    }

    pub fn get(&self, title_id: &str) -> Option<&Title> {
        self.titles.get(title_id)
    }

    pub fn len(&self) -> usize {
        self.titles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }

    /// Every title, ordered by id.
    pub fn titles(&self) -> Vec<&Title> {
        let mut v: Vec<&Title> = self.titles.values().collect();
        v.sort_by(|a, b| a.title_id.cmp(&b.title_id));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_is_ninety_percent_of_the_duration() {
        assert!(completes(90_000, 100_000));
        assert!(!completes(89_999, 100_000));
        assert!(!completes(5, 0), "no duration, no completion");
    }

    #[test]
    fn kinds_parse_back_from_their_names() {
        for k in [TitleKind::Film, TitleKind::Episode, TitleKind::Track] {
            assert_eq!(TitleKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TitleKind::parse("podcast"), None);
    }
}
