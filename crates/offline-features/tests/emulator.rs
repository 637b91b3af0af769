//! The stream's session save and the batch's publish on one DynamoDB item
//! (moto or LocalStack via AWS_ENDPOINT_URL) commute: in either order, with
//! replays of each, the item ends the same, and the recommender's one read
//! gets both kinds of features with their as-of times. An emulator test, run
//! by `make test`.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use playback_aws::features_store::DynamoFeatureStore;
use playback_domain::features::ViewerFeatures;
use playback_domain::long_horizon::{GenreShare, LongHorizonFeatures};
use playback_domain::ports::{FeatureStore, LongHorizonStore, PublishOutcome, SaveOutcome};

const TTL: i64 = 90 * 86_400;

async fn table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    let key = "viewer_id";
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

fn session(viewer: &str, position: &str) -> ViewerFeatures {
    ViewerFeatures {
        recent_titles: vec!["t0003".into(), "t0001".into()],
        current_title: Some("t0001".into()),
        session_watched_ms: 600_000,
        lifetime_watched_ms: 9_000_000,
        last_event_time_ms: 1_772_500_000_000,
        device_platform: Some("tv".into()),
        events_applied: 42,
        last_position: Some(position.into()),
        ..ViewerFeatures::new(viewer)
    }
}

fn batch(viewer: &str, as_of_ms: i64) -> LongHorizonFeatures {
    LongHorizonFeatures {
        viewer_id: viewer.into(),
        as_of_ms,
        top_genres: vec![
            GenreShare {
                genre: "drama".into(),
                share_bp: 6_000,
            },
            GenreShare {
                genre: "sci-fi".into(),
                share_bp: 2_500,
            },
        ],
        plays: 17,
        completion_bp: Some(4_117),
        preferred_device: Some("tv".into()),
        preferred_daypart: Some("evening".into()),
        active_days: 9,
        watched_ms: 31_000_000,
    }
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn stream_and_batch_writes_commute_on_one_item() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "AWS_ENDPOINT_URL is not set: an emulator test, run it with `make test`"
    );
    let conf = playback_aws::load_aws_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let name = format!(
        "lh-commute-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    table(&ddb, &name).await.unwrap();
    let store = DynamoFeatureStore::new(ddb.clone(), &name, TTL);
    let (p1, p2) = ("00000000000000000001:0", "00000000000000000002:0");
    let (day1, day2) = (1_772_409_600_000, 1_772_496_000_000);

    // Viewer a: the stream first, then the batch. Viewer b: the other way.
    let s1 = session("a", p1);
    let s2 = ViewerFeatures {
        events_applied: 43,
        last_position: Some(p2.into()),
        ..s1.clone()
    };
    assert_eq!(store.save(&s1, None).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store
            .publish(&batch("a", day1), day1 + 9_000_000)
            .await
            .unwrap(),
        PublishOutcome::Written
    );
    assert_eq!(store.save(&s2, Some(p1)).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store
            .publish(&batch("a", day2), day2 + 9_000_000)
            .await
            .unwrap(),
        PublishOutcome::Written
    );

    let b = |f: &ViewerFeatures| ViewerFeatures {
        viewer_id: "b".into(),
        ..f.clone()
    };
    assert_eq!(
        store
            .publish(&batch("b", day2), day2 + 9_000_000)
            .await
            .unwrap(),
        PublishOutcome::Written
    );
    // A late retry of the older run loses to the newer one already there.
    assert_eq!(
        store
            .publish(&batch("b", day1), day1 + 9_000_000)
            .await
            .unwrap(),
        PublishOutcome::Stale
    );
    // The stream starts the item's session attributes with no session state seen.
    assert!(store.load(&["b".into()]).await.unwrap().is_empty());
    assert_eq!(store.save(&b(&s1), None).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store.save(&b(&s2), Some(p1)).await.unwrap(),
        SaveOutcome::Saved
    );
    // Replays: the stream's stale save and the batch's re-publish change nothing.
    assert_ne!(store.save(&b(&s1), None).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(
        store
            .publish(&batch("b", day2), day2 + 9_000_000)
            .await
            .unwrap(),
        PublishOutcome::Stale
    );

    let items = store.get_items(&["a".into(), "b".into()]).await.unwrap();
    assert_eq!(items.len(), 2);
    let mut by_viewer: Vec<_> = items
        .into_iter()
        .map(|mut i| {
            let v = i.remove("viewer_id").unwrap();
            (v.as_s().unwrap().clone(), i)
        })
        .collect();
    by_viewer.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        by_viewer[0].1, by_viewer[1].1,
        "the same item in either order"
    );

    let online = store.read_online("a").await.unwrap();
    let lh = online.long_horizon.expect("long-horizon features");
    assert_eq!(
        (lh.features.as_of_ms, lh.published_ms),
        (day2, day2 + 9_000_000)
    );
    assert_eq!(lh.features, batch("a", day2));
    let s = online.session.expect("session features");
    assert_eq!(
        (s.events_applied, s.last_event_time_ms),
        (43, s2.last_event_time_ms)
    );
    ddb.delete_table().table_name(&name).send().await.unwrap();
}
