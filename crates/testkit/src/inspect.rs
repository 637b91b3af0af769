//! Reads back what the pipeline produced: alert and window items, features,
//! dead letters and lake files. Used by the demo and the end-to-end tests.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use playback_aws::dynamo::{get_i64, get_s, get_u64, Item};
use playback_aws::windows_store;
use playback_domain::lake::LakeRow;
use playback_domain::ports::DeadLetter;
use playback_domain::sre::incident::Incident;

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub title_id: String,
    pub region: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub ratio: f64,
    pub baseline_ratio: f64,
    pub threshold: f64,
    pub sessions: u64,
    pub raised_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowRow {
    pub title_id: String,
    pub region: String,
    pub window_start_ms: i64,
    pub watched_ms: u64,
    pub stalled_ms: u64,
    pub sessions: u64,
    pub viewers: u64,
}

fn get_f64(item: &Item, k: &str) -> f64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

pub async fn scan(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Item>> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let resp = dynamo
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .with_context(|| format!("scanning {table}"))?;
        out.extend(resp.items.unwrap_or_default());
        match resp.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
}

pub async fn alerts(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<AlertRow>> {
    let mut rows: Vec<AlertRow> = scan(dynamo, table)
        .await?
        .iter()
        .map(|i| AlertRow {
            title_id: get_s(i, "title_id").unwrap_or_default(),
            region: get_s(i, "region").unwrap_or_default(),
            window_start_ms: get_i64(i, "window_start"),
            window_end_ms: get_i64(i, "window_end"),
            ratio: get_f64(i, "ratio"),
            baseline_ratio: get_f64(i, "baseline_ratio"),
            threshold: get_f64(i, "threshold"),
            sessions: get_u64(i, "sessions"),
            raised_at_ms: get_i64(i, "raised_at_ms"),
        })
        .collect();
    rows.sort_by_key(|a| (a.window_start_ms, a.title_id.clone(), a.region.clone()));
    Ok(rows)
}

/// Title x region windows, combined over the shard items qoe-alerts wrote.
pub async fn windows(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<WindowRow>> {
    let mut per_window: BTreeMap<i64, Vec<windows_store::Group>> = BTreeMap::new();
    for item in scan(dynamo, table).await? {
        let groups = windows_store::groups_of(&item)?;
        per_window
            .entry(get_i64(&item, "window_start"))
            .or_default()
            .extend(groups);
    }
    let mut rows: Vec<WindowRow> = per_window
        .into_iter()
        .flat_map(|(start, groups)| {
            windows_store::combine(groups)
                .into_iter()
                .map(move |((title_id, region), t)| WindowRow {
                    title_id,
                    region,
                    window_start_ms: start,
                    watched_ms: t.watched_ms,
                    stalled_ms: t.stalled_ms,
                    sessions: t.sessions,
                    viewers: t.viewers,
                })
        })
        .collect();
    rows.sort_by_key(|w| (w.window_start_ms, w.title_id.clone(), w.region.clone()));
    Ok(rows)
}

/// Live concurrent viewers per title x region: the latest window of each.
pub fn live_viewers(windows: &[WindowRow]) -> Vec<(String, String, i64, u64)> {
    let mut latest: BTreeMap<(String, String), (i64, u64)> = BTreeMap::new();
    for w in windows {
        let e = latest
            .entry((w.title_id.clone(), w.region.clone()))
            .or_default();
        if w.window_start_ms >= e.0 {
            *e = (w.window_start_ms, w.viewers);
        }
    }
    let mut v: Vec<_> = latest
        .into_iter()
        .map(|((t, r), (s, n))| (t, r, s, n))
        .collect();
    v.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Receives every message of a queue once (each is hidden for 5 minutes after).
pub async fn drain_queue(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<String>> {
    let mut bodies = Vec::new();
    loop {
        let resp = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .wait_time_seconds(0)
            .send()
            .await
            .with_context(|| format!("receiving from {url}"))?;
        let msgs = resp.messages.unwrap_or_default();
        if msgs.is_empty() {
            return Ok(bodies);
        }
        bodies.extend(msgs.into_iter().filter_map(|m| m.body));
    }
}

/// Dead letters (poison pills) among a queue's messages; other bodies are skipped.
pub fn dead_letters(bodies: &[String]) -> Vec<DeadLetter> {
    bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<DeadLetter>(b).ok())
        .collect()
}

pub struct LakeFile {
    pub key: String,
    pub bytes: usize,
    pub rows: Vec<LakeRow>,
}

pub async fn lake_files(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<LakeFile>> {
    let mut files = Vec::new();
    let mut token = None;
    loop {
        let resp = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        for obj in resp.contents.unwrap_or_default() {
            let Some(key) = obj.key else { continue };
            if !key.ends_with(".parquet") {
                continue;
            }
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await?
                .body
                .collect()
                .await?;
            let bytes = body.into_bytes();
            let rows =
                lake::parquet_io::read_rows(&bytes).with_context(|| format!("reading {key}"))?;
            files.push(LakeFile {
                key,
                bytes: bytes.len(),
                rows,
            });
        }
        match resp.next_continuation_token {
            Some(t) => token = Some(t),
            None => return Ok(files),
        }
    }
}

/// One record read back from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRecord {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// Every record of the stream, each shard from its start to its end (an
/// empty page: everything was written before the read), in shard order.
pub async fn stream_records(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<Vec<ReadRecord>> {
    let shards = kinesis
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .context("ListShards")?
        .shards
        .unwrap_or_default();
    let mut records = Vec::new();
    for shard in shards {
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .context("GetShardIterator")?
            .shard_iterator;
        while let Some(it) = iterator {
            let out = kinesis
                .get_records()
                .shard_iterator(it)
                .limit(10_000)
                .send()
                .await
                .context("GetRecords")?;
            if out.records().is_empty() {
                break;
            }
            records.extend(out.records().iter().map(|r| ReadRecord {
                shard_id: shard.shard_id().to_string(),
                sequence_number: r.sequence_number().to_string(),
                partition_key: r.partition_key().unwrap_or_default().to_string(),
                data: r.data().as_ref().to_vec(),
            }));
            iterator = out.next_shard_iterator;
        }
    }
    Ok(records)
}

/// The last sequence number of every shard that holds records, read back
/// from the stream to its end (the manifest has no sequence numbers), and how
/// many records it holds.
pub async fn stream_ends(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<(BTreeMap<String, String>, usize)> {
    let records = stream_records(kinesis, stream).await?;
    let ends = records
        .iter()
        .map(|r| (r.shard_id.clone(), r.sequence_number.clone()))
        .collect();
    Ok((ends, records.len()))
}

/// The SRE incidents (open and resolved) in the SRE table.
pub async fn incidents(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Incident>> {
    scan(dynamo, table)
        .await?
        .iter()
        .filter(|i| get_s(i, "pk").is_some_and(|pk| pk.starts_with("inc#")))
        .map(|i| playback_aws::sre_store::incident_of(i).context("reading an incident item"))
        .collect()
}

/// The SRE pages among the messages delivered to the on-call's queue (QoE
/// alerts share the topic and are left out).
pub fn sre_pages(bodies: &[String]) -> Vec<Incident> {
    bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect()
}
