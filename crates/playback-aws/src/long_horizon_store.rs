//! `LongHorizonStore` on the session-features table: the batch's features go
//! into `lh_*` attributes of the viewer's one item, so the recommender reads
//! both kinds in one GetItem. Each writer touches only its own attributes and
//! versions them itself (the stream by stream position, the batch by the
//! run's `as_of`), so their writes commute: whichever lands first, the item
//! ends the same. The one shared attribute, `expires_at`, the stream always
//! sets and the batch sets only if absent.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use playback_domain::long_horizon::{GenreShare, LongHorizonFeatures};
use playback_domain::ports::{LongHorizonStore, PortResult, PublishOutcome, Published};

use crate::dynamo::*;
use crate::features_store::{from_item, DynamoFeatureStore};
use crate::update::Update;
use playback_domain::features::ViewerFeatures;

pub const LH_AS_OF: &str = "lh_as_of";
const LH_PUBLISHED: &str = "lh_published";
/// `genre:share_bp` pairs, largest first, comma-joined (one short string
/// keeps the item under 1 KB: one write unit per save, for both writers).
const LH_GENRES: &str = "lh_genres";
const LH_OPTIONAL: [&str; 3] = ["lh_completion_bp", "lh_device", "lh_daypart"];

fn genres_text(g: &[GenreShare]) -> String {
    let parts: Vec<String> = g
        .iter()
        .map(|g| format!("{}:{}", g.genre, g.share_bp))
        .collect();
    parts.join(",")
}

fn parse_genres(text: &str) -> Vec<GenreShare> {
    text.split(',')
        .filter_map(|p| {
            let (genre, bp) = p.rsplit_once(':')?;
            Some(GenreShare {
                genre: genre.to_string(),
                share_bp: bp.parse().ok()?,
            })
        })
        .collect()
}

/// The item's long-horizon features, if the batch wrote them.
pub fn published_from_item(item: &Item) -> Option<Published> {
    item.get(LH_AS_OF)?;
    let features = LongHorizonFeatures {
        viewer_id: get_s(item, "viewer_id")?,
        as_of_ms: get_i64(item, LH_AS_OF),
        top_genres: get_s(item, LH_GENRES)
            .map(|t| parse_genres(&t))
            .unwrap_or_default(),
        plays: get_u64(item, "lh_plays") as u32,
        completion_bp: item
            .contains_key("lh_completion_bp")
            .then(|| get_u64(item, "lh_completion_bp") as u32),
        preferred_device: get_s(item, "lh_device"),
        preferred_daypart: get_s(item, "lh_daypart"),
        active_days: get_u64(item, "lh_active_days") as u32,
        watched_ms: get_u64(item, "lh_watched_ms"),
    };
    Some(Published {
        features,
        published_ms: get_i64(item, LH_PUBLISHED),
    })
}

/// What the recommender reads for one viewer: one item, both kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineItem {
    pub session: Option<ViewerFeatures>,
    pub long_horizon: Option<Published>,
}

impl DynamoFeatureStore {
    /// The recommender's read: one consistent GetItem per viewer.
    pub async fn read_online(&self, viewer: &str) -> PortResult<OnlineItem> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("viewer_id", s(viewer))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| port_error("features.read", e))?;
        let Some(item) = resp.item else {
            return Ok(OnlineItem::default());
        };
        let session = match item.contains_key("last_position") {
            true => Some(from_item(&item)?),
            false => None,
        };
        Ok(OnlineItem {
            session,
            long_horizon: published_from_item(&item),
        })
    }
}

impl LongHorizonStore for DynamoFeatureStore {
    async fn publish(
        &self,
        f: &LongHorizonFeatures,
        published_ms: i64,
    ) -> PortResult<PublishOutcome> {
        let mut u = Update::default();
        u.set(LH_AS_OF, n(f.as_of_ms));
        u.set(LH_PUBLISHED, n(published_ms));
        u.set("lh_plays", n(f.plays));
        u.set("lh_active_days", n(f.active_days));
        u.set("lh_watched_ms", n(f.watched_ms));
        match f.top_genres.is_empty() {
            true => u.remove(LH_GENRES),
            false => u.set(LH_GENRES, s(genres_text(&f.top_genres))),
        }
        let optional: [Option<AttributeValue>; 3] = [
            f.completion_bp.map(n),
            f.preferred_device.as_deref().map(s),
            f.preferred_daypart.as_deref().map(s),
        ];
        for (k, v) in LH_OPTIONAL.into_iter().zip(optional) {
            match v {
                Some(v) => u.set(k, v),
                None => u.remove(k),
            }
        }
        u.set_if_absent("expires_at", n(f.as_of_ms / 1000 + self.ttl_secs));
        let (as_of, run) = (u.name(LH_AS_OF), u.value(n(f.as_of_ms)));
        let condition = format!("attribute_not_exists({as_of}) OR {as_of} < {run}");
        let written = self
            .update_viewer(u, &f.viewer_id, condition, "features.publish")
            .await?;
        Ok(match written {
            true => PublishOutcome::Written,
            false => PublishOutcome::Stale,
        })
    }

    async fn load_published(&self, ids: &[String]) -> PortResult<BTreeMap<String, Published>> {
        Ok(self
            .get_items(ids)
            .await?
            .iter()
            .filter_map(published_from_item)
            .map(|p| (p.features.viewer_id.clone(), p))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features_store::to_item;

    #[test]
    fn genres_round_trip_and_the_full_item_stays_under_one_write_unit() {
        let g = vec![
            GenreShare {
                genre: "documentary".into(),
                share_bp: 9_999,
            },
            GenreShare {
                genre: "thriller".into(),
                share_bp: 10_000,
            },
        ];
        assert_eq!(parse_genres(&genres_text(&g)), g);
        assert!(parse_genres("").is_empty());
        let f = LongHorizonFeatures {
            viewer_id: "v".into(),
            as_of_ms: 1_795_392_000_000,
            top_genres: vec![g[0].clone(), g[1].clone(), g[1].clone()],
            plays: 4_000,
            completion_bp: Some(10_000),
            preferred_device: Some("android_tv".into()),
            preferred_daypart: Some("afternoon".into()),
            active_days: 30,
            watched_ms: 2_592_000_000,
        };
        let mut item: Item = Item::new();
        item.insert(LH_AS_OF.into(), n(f.as_of_ms));
        item.insert(LH_PUBLISHED.into(), n(f.as_of_ms + 3_600_000));
        item.insert(LH_GENRES.into(), s(genres_text(&f.top_genres)));
        for (k, v) in [
            ("lh_plays", 4_000u64),
            ("lh_active_days", 30),
            ("lh_watched_ms", 2_592_000_000),
            ("lh_completion_bp", 10_000),
        ] {
            item.insert(k.into(), n(v));
        }
        item.insert("lh_device".into(), s("android_tv"));
        item.insert("lh_daypart".into(), s("afternoon"));
        let lh = item_size(&item);
        let session = item_size(&to_item(
            &crate::features_store::tests::full_features(),
            90 * 86_400,
        ));
        assert!(
            session + lh < 1024,
            "session {session} + long-horizon {lh} bytes"
        );
        item.insert("viewer_id".into(), s("v"));
        assert_eq!(published_from_item(&item).unwrap().features, f);
    }
}
