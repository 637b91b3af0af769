//! `DeadLetters` on SQS: one JSON message per refused event, reason code as a
//! message attribute, sent in batches of ten (SendMessageBatch's limit).

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use playback_domain::ports::{DeadLetter, DeadLetters, PortError, PortResult, Retry};

use crate::classify::port_error;
use crate::retry;

/// SQS caps a message at 256 KiB; larger payloads are cut (and flagged in the reason).
const MAX_PAYLOAD: usize = 200 * 1024;

pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsDeadLetters {
            client,
            queue_url: queue_url.into(),
        }
    }
}

pub fn body_of(letter: &DeadLetter) -> String {
    let mut l = letter.clone();
    for p in [&mut l.payload, &mut l.payload_base64]
        .into_iter()
        .flatten()
    {
        if p.len() > MAX_PAYLOAD {
            let original = p.len();
            let mut cut = MAX_PAYLOAD;
            while !p.is_char_boundary(cut) {
                cut -= 1;
            }
            p.truncate(cut);
            l.reason = format!(
                "{} (payload of {original} bytes truncated to {cut})",
                l.reason
            );
        }
    }
    serde_json::to_string(&l).expect("dead letter serialises")
}

impl SqsDeadLetters {
    /// One SendMessageBatch of at most ten letters (ids are their indices in
    /// `letters`); returns the indices SQS failed for a passing reason. An
    /// entry refused as the sender's fault fails the call: resending it
    /// cannot help.
    async fn send_batch(
        &self,
        letters: &[DeadLetter],
        indices: Vec<usize>,
    ) -> PortResult<Vec<usize>> {
        let entries = indices
            .iter()
            .map(|&i| {
                let l = &letters[i];
                let attr = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(&l.reason_code)
                    .build()
                    .map_err(|e| PortError::Corrupt(e.to_string()))?;
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body_of(l))
                    .message_attributes("reason_code", attr)
                    .build()
                    .map_err(|e| PortError::Corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| port_error("dlq.send", e))?;
        let mut left = Vec::new();
        for f in out.failed {
            if f.sender_fault {
                let why = format!("entry {}: {}", f.id, f.message.unwrap_or_default());
                return Err(PortError::call(
                    "dlq.send",
                    Retry::NonRetriable,
                    Some(f.code),
                    why,
                ));
            }
            left.extend(f.id.parse::<usize>().ok());
        }
        Ok(left)
    }
}

impl DeadLetters for SqsDeadLetters {
    async fn send(&self, letters: &[DeadLetter]) -> PortResult<()> {
        let indices: Vec<usize> = (0..letters.len()).collect();
        for chunk in indices.chunks(10) {
            retry::until_processed(
                "dlq.send",
                "entries",
                chunk.to_vec(),
                retry::policy(),
                |ids| self.send_batch(letters, ids),
            )
            .await?;
        }
        Ok(())
    }
}
