//! DLQ redrive: moves messages from a dead-letter queue back to their source
//! queue, or (poison-pill DLQ) re-puts the original events into the stream
//! once the cause is fixed. A message is deleted only after it was delivered;
//! whatever is skipped is made visible again.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use aws_sdk_sqs::types::Message;
use base64::Engine;
use serde_json::Value;

use crate::esm::cmp_seq;
use crate::{aws_err, Error, Result};

#[derive(Debug, Clone, Copy, Default)]
pub struct RedriveOptions {
    pub max: Option<usize>,
    pub dry_run: bool,
    /// Visibility while a message is being handled (seconds).
    pub visibility_s: i32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedriveReport {
    pub received: usize,
    /// Messages sent to the queue, or dead letters re-put to the stream.
    pub moved: usize,
    /// Kinesis records put (a dead letter is one; an on-failure record may be many).
    pub records_put: usize,
    pub deleted: usize,
    /// Left in the DLQ: unparseable, or nothing to re-put.
    pub skipped: usize,
    /// Left in the DLQ because the delivery failed.
    pub errors: usize,
}

/// A queue URL from a URL or a queue name.
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, name_or_url: &str) -> Result<String> {
    if name_or_url.starts_with("http://") || name_or_url.starts_with("https://") {
        return Ok(name_or_url.to_string());
    }
    sqs.get_queue_url()
        .queue_name(name_or_url)
        .send()
        .await
        .map_err(aws_err("sqs.GetQueueUrl"))?
        .queue_url
        .ok_or_else(|| Error::Config(format!("queue {name_or_url} not found")))
}

/// Where a dead letter goes.
pub enum Target<'a> {
    Queue(&'a str),
    Stream(&'a aws_sdk_kinesis::Client, &'a str),
}

pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    from_url: &str,
    target: Target<'_>,
    opts: RedriveOptions,
) -> Result<RedriveReport> {
    let mut report = RedriveReport::default();
    let mut held: Vec<String> = Vec::new();
    let visibility = opts.visibility_s.max(5);
    loop {
        let left = opts
            .max
            .map_or(10, |m| m.saturating_sub(report.received).min(10));
        if left == 0 {
            break;
        }
        let got = sqs
            .receive_message()
            .queue_url(from_url)
            .max_number_of_messages(left as i32)
            .wait_time_seconds(1)
            .visibility_timeout(visibility)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(aws_err("sqs.ReceiveMessage"))?
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            break;
        }
        for msg in got {
            report.received += 1;
            let handle = msg.receipt_handle.clone().unwrap_or_default();
            if opts.dry_run {
                held.push(handle);
                continue;
            }
            let delivered = match &target {
                Target::Queue(to) => send_to_queue(sqs, to, &msg).await.map(|()| Some(0)),
                Target::Stream(kinesis, stream) => put_to_stream(kinesis, stream, &msg).await,
            };
            match delivered {
                Ok(Some(records)) => {
                    report.moved += 1;
                    report.records_put += records;
                    sqs.delete_message()
                        .queue_url(from_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(aws_err("sqs.DeleteMessage"))?;
                    report.deleted += 1;
                }
                Ok(None) => {
                    report.skipped += 1;
                    held.push(handle);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "not redriven; left in the DLQ");
                    report.errors += 1;
                    held.push(handle);
                }
            }
        }
    }
    for handle in held {
        // Back to visible at once: skipped or dry-run messages stay in the DLQ.
        let _ = sqs
            .change_message_visibility()
            .queue_url(from_url)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
    }
    Ok(report)
}

async fn send_to_queue(sqs: &aws_sdk_sqs::Client, to_url: &str, msg: &Message) -> Result<()> {
    sqs.send_message()
        .queue_url(to_url)
        .message_body(msg.body.clone().unwrap_or_default())
        .set_message_attributes(msg.message_attributes.clone())
        .send()
        .await
        .map_err(aws_err("sqs.SendMessage"))?;
    Ok(())
}

/// Re-puts what a poison-pill DLQ message stands for: the `payload` of a dead
/// letter, or the records an on-failure record points at (read back from the
/// shard). Ok(None): nothing to put (the message is skipped).
async fn put_to_stream(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
    msg: &Message,
) -> Result<Option<usize>> {
    let Ok(body) = serde_json::from_str::<Value>(msg.body.as_deref().unwrap_or_default()) else {
        return Ok(None);
    };
    let records = if let Some(info) = body.get("KinesisBatchInfo") {
        read_batch(kinesis, stream, info).await?
    } else {
        match dead_letter_payload(&body) {
            Some(data) => vec![(partition_key(&body, &data), data)],
            None => return Ok(None),
        }
    };
    if records.is_empty() {
        return Ok(None);
    }
    for chunk in records.chunks(500) {
        let entries = chunk
            .iter()
            .map(|(key, data)| {
                PutRecordsRequestEntry::builder()
                    .partition_key(key)
                    .data(Blob::new(data.clone()))
                    .build()
                    .map_err(|e| Error::Payload(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let out = kinesis
            .put_records()
            .stream_name(stream)
            .set_records(Some(entries))
            .send()
            .await
            .map_err(aws_err("kinesis.PutRecords"))?;
        if out.failed_record_count.unwrap_or(0) > 0 {
            return Err(Error::Payload(format!(
                "{} records refused by PutRecords",
                out.failed_record_count.unwrap_or(0)
            )));
        }
    }
    Ok(Some(records.len()))
}

/// The original bytes of a dead letter (`payload`, else `payload_base64`).
pub fn dead_letter_payload(body: &Value) -> Option<Vec<u8>> {
    if let Some(p) = body.get("payload").and_then(Value::as_str) {
        return Some(p.as_bytes().to_vec());
    }
    let b64 = body.get("payload_base64").and_then(Value::as_str)?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Producers key records by viewer; fall back to the event id, then the source.
fn partition_key(body: &Value, data: &[u8]) -> String {
    let event: Option<Value> = serde_json::from_slice(data).ok();
    let from_event = |k: &str| {
        event
            .as_ref()
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    from_event("viewer_id")
        .or_else(|| from_event("event_id"))
        .or_else(|| {
            body.get("event_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            body.get("source")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "redrive".to_string())
}

/// True once a read reaches past the batch's last record (sequence numbers
/// compared as numbers: 56 digits on AWS, small integers on moto).
fn past_end(seq: &str, end: &str) -> bool {
    cmp_seq(seq, end).is_gt()
}

/// The records start..=end of one shard, for an on-failure record.
async fn read_batch(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
    info: &Value,
) -> Result<Vec<(String, Vec<u8>)>> {
    let field = |k: &str| info.get(k).and_then(Value::as_str).unwrap_or_default();
    let (shard, start, end) = (
        field("shardId"),
        field("startSequenceNumber"),
        field("endSequenceNumber"),
    );
    let mut iterator = kinesis
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(start)
        .send()
        .await
        .map_err(aws_err("kinesis.GetShardIterator"))?
        .shard_iterator;
    let mut out = Vec::new();
    while let Some(it) = iterator {
        let resp = kinesis
            .get_records()
            .shard_iterator(it)
            .send()
            .await
            .map_err(aws_err("kinesis.GetRecords"))?;
        if resp.records.is_empty() {
            break;
        }
        for r in resp.records {
            if past_end(&r.sequence_number, end) {
                return Ok(out);
            }
            out.push((r.partition_key.unwrap_or_default(), r.data.into_inner()));
        }
        iterator = resp.next_shard_iterator;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::past_end;

    #[test]
    fn redrive_stops_after_the_batch_end_with_aws_sized_numbers() {
        let end = "49590338271490256608559692538361571095921575989136588898";
        let next = "49590338271490256608559692538361571095921575989136588899";
        assert!(!past_end(end, end));
        assert!(past_end(next, end));
        assert!(!past_end(&"9".repeat(55), end));
        let longest = format!("2{}", "0".repeat(128));
        assert!(past_end(&format!("2{}1", "0".repeat(127)), &longest));
        assert!(!past_end(&format!("1{}", "9".repeat(128)), &longest));
        // moto's small integers.
        assert!(past_end("10", "9"));
    }
}
