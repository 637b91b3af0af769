//! SendMessageBatch of plain bodies, entry ids = positions: the call the
//! SRE producers (the load generator, the collector) share. Each caller
//! classifies the failures its own way.

use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::{BatchResultErrorEntry, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

/// Sends `bodies` (at most 10, at most 256 KiB together) in one call; for
/// each body, in order, its failure entry if SQS refused it.
pub async fn send_bodies(
    client: &Client,
    queue_url: &str,
    bodies: &[String],
) -> Result<Vec<Option<BatchResultErrorEntry>>, SdkError<SendMessageBatchError>> {
    let entries = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(b.clone())
                .build()
                .expect("id and body are set")
        })
        .collect();
    let out = client
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await?;
    let mut failed = vec![None; bodies.len()];
    for f in out.failed {
        if let Some(slot) = f.id.parse::<usize>().ok().and_then(|i| failed.get_mut(i)) {
            *slot = Some(f);
        }
    }
    Ok(failed)
}
