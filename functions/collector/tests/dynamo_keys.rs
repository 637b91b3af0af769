//! The DynamoDB key store on a moto server (AWS_ENDPOINT_URL), through the
//! collector's front door: a key put as an item authenticates; a rotation has
//! two active kids; a retired key is still accepted from the cache until the
//! TTL, then refused; a table that cannot be read is a 503, not a 401.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use bytes::Bytes;
use collector::auth::{hash_key, header_value};
use collector::dynamo_keys::{DynamoKeyStore, ACTIVE, HASH_ATTR, PK, SK, STATUS_ATTR};
use collector::memory::{MemorySreQueue, MemoryStream};
use collector::{fast_retry, Collector, PATH};
use http::StatusCode;
use playback_aws::emf::Metrics;
use playback_domain::memory::MemoryDeadLetters;

const TTL: Duration = Duration::from_secs(1);
/// 2026-11-23T10:00:05Z, five seconds after the event's time.
const NOW: i64 = 1_795_428_005_000;
const EVENT: &str = r#"[{"event_id":"e1","event_type":"heartbeat","event_time":"2026-11-23T10:00:00.000Z","viewer_id":"v1","session_id":"s","title_id":"t","region":"eu","device_platform":"tv","app_version":"1.0","watched_ms":10}]"#;

type Twin = Collector<DynamoKeyStore, MemoryStream, MemorySreQueue, MemoryDeadLetters>;

async fn create_table(ddb: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .send()
        .await?;
    Ok(())
}

/// What README.md's `aws dynamodb put-item` writes: the hash, never the key.
async fn put_key(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    app: &str,
    kid: &str,
    key: &str,
    status: &str,
) -> anyhow::Result<()> {
    let s = |v: &str| AttributeValue::S(v.into());
    ddb.put_item()
        .table_name(table)
        .item(PK, s(app))
        .item(SK, s(kid))
        .item(HASH_ATTR, s(&hex::encode(hash_key(key))))
        .item(STATUS_ATTR, s(status))
        .send()
        .await?;
    Ok(())
}

fn collector(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Twin {
    let mut c = Collector::new(
        DynamoKeyStore::new(ddb.clone(), table).with_ttl(TTL),
        MemoryStream::default(),
        MemorySreQueue::default(),
        MemoryDeadLetters::default(),
        Metrics::memory(),
    );
    c.retry = fast_retry();
    c
}

async fn post(c: &Twin, kid: &str, key: &str) -> StatusCode {
    let req = http::Request::post(PATH)
        .header("content-type", "application/json")
        .header("authorization", header_value("tv", kid, key))
        .body(Bytes::from_static(EVENT.as_bytes()))
        .expect("valid request");
    c.handle_at(req, NOW).await.status()
}

fn emulator() -> bool {
    std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty())
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn keys_rotate_and_retire_through_the_table_and_its_cache() -> anyhow::Result<()> {
    assert!(
        emulator(),
        "AWS_ENDPOINT_URL is not set: an emulator test, run it with `make test`"
    );
    let conf = playback_aws::load_aws_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let table = format!("collector-keys-{}", std::process::id());
    create_table(&ddb, &table).await?;
    put_key(&ddb, &table, "tv", "k1", "old-key", ACTIVE).await?;
    let c = collector(&ddb, &table);

    assert_eq!(post(&c, "k1", "old-key").await, StatusCode::OK);
    assert_eq!(post(&c, "k1", "wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&c, "k2", "new-key").await, StatusCode::UNAUTHORIZED);

    // The rotation: k2 added; both kids work once k2's "absent" has expired.
    put_key(&ddb, &table, "tv", "k2", "new-key", ACTIVE).await?;
    tokio::time::sleep(TTL).await;
    assert_eq!(post(&c, "k2", "new-key").await, StatusCode::OK);
    assert_eq!(post(&c, "k1", "old-key").await, StatusCode::OK);

    // k1 retired: still served from the cache within the TTL, then refused.
    put_key(&ddb, &table, "tv", "k1", "old-key", "retired").await?;
    assert_eq!(post(&c, "k1", "old-key").await, StatusCode::OK);
    tokio::time::sleep(TTL).await;
    assert_eq!(post(&c, "k1", "old-key").await, StatusCode::UNAUTHORIZED);
    assert_eq!(post(&c, "k2", "new-key").await, StatusCode::OK);
    assert_eq!(
        c.stream.written().len(),
        5,
        "only the accepted requests wrote"
    );
    ddb.delete_table().table_name(&table).send().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn a_key_store_that_cannot_be_read_is_a_503() -> anyhow::Result<()> {
    assert!(
        emulator(),
        "AWS_ENDPOINT_URL is not set: an emulator test, run it with `make test`"
    );
    let conf = playback_aws::load_aws_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let c = collector(&ddb, "collector-keys-no-such-table");
    assert_eq!(
        post(&c, "k1", "old-key").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(c.stream.written().is_empty());
    Ok(())
}
