//! The SRE queue's lines (`playback_domain::sre::feeds_sre`: the quality
//! events and their denominators, session starts and heartbeats), packed as
//! newline-delimited JSON into message bodies of up to 64 KiB (SQS bills per
//! 64 KiB chunk, so a packed body costs what one event did) and sent by
//! SendMessageBatch, 10 messages per call, failed entries retried.

use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use playback_aws::sqs_batch::send_bodies;

use playback_domain::event::MAX_EVENTS_PER_RECORD;

use super::{classify, is_throttle_code, BatchApi, CallError, Outcome};
use crate::error::LoadgenError;

pub const MAX_MESSAGES_PER_CALL: usize = 10;
/// SendMessageBatch's limit on the bodies of one call.
pub const MAX_BYTES_PER_CALL: usize = 256 * 1024;
/// A packed body: one SQS billing chunk.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct SqsApi {
    pub client: Client,
    pub queue_url: String,
}

impl SqsApi {
    pub fn new(aws: &aws_config::SdkConfig, queue_url: impl Into<String>) -> Self {
        let (client, queue_url) = (Client::new(aws), queue_url.into());
        SqsApi { client, queue_url }
    }
}

impl BatchApi for SqsApi {
    type Entry = String;
    const MAX_ENTRIES: usize = MAX_MESSAGES_PER_CALL;
    const MAX_BYTES: usize = MAX_BYTES_PER_CALL;

    fn size(body: &String) -> usize {
        body.len()
    }

    async fn send(&self, bodies: &[String]) -> Result<Vec<Outcome>, CallError> {
        let failed = send_bodies(&self.client, &self.queue_url, bodies)
            .await
            .map_err(|e| classify(&e))?;
        Ok(failed
            .into_iter()
            .map(|f| {
                let Some(f) = f else { return Outcome::Ok };
                let why = format!("{}: {}", f.code, f.message.unwrap_or_default());
                if is_throttle_code(&f.code) {
                    Outcome::Throttled
                } else if f.sender_fault {
                    Outcome::Rejected(why)
                } else {
                    Outcome::Failed(why)
                }
            })
            .collect())
    }

    fn error(&self, message: String) -> LoadgenError {
        LoadgenError::Sqs(format!("queue {}: {message}", self.queue_url))
    }
}

/// Packs lines into message bodies: at most [`MAX_BODY_BYTES`] and
/// [`MAX_EVENTS_PER_RECORD`] lines (a consumer refuses more as `oversized`).
#[derive(Debug, Default)]
pub struct SrePacker {
    body: String,
    lines: usize,
    since: Option<Instant>,
}

impl SrePacker {
    /// Adds a line; returns the previous body when this one did not fit.
    pub fn push(&mut self, line: &[u8]) -> Option<String> {
        let line = String::from_utf8_lossy(line);
        let full = self.lines > 0
            && (self.body.len() + 1 + line.len() > MAX_BODY_BYTES
                || self.lines >= MAX_EVENTS_PER_RECORD);
        let sealed = if full { self.take() } else { None };
        if self.lines > 0 {
            self.body.push('\n');
        }
        self.body.push_str(&line);
        self.lines += 1;
        self.since.get_or_insert_with(Instant::now);
        sealed
    }

    /// The body so far, if any.
    pub fn take(&mut self) -> Option<String> {
        self.since = None;
        self.lines = 0;
        (!self.body.is_empty()).then(|| std::mem::take(&mut self.body))
    }

    /// How long the body's first line has waited.
    pub fn age(&self) -> Option<Duration> {
        self.since.map(|t| t.elapsed())
    }
}
