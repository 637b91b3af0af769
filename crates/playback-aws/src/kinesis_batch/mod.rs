//! Turns a Lambda Kinesis batch into validated events (borrowed from the
//! record bytes) plus dead letters, and failures back into the
//! `batchItemFailures` answer: Lambda resumes from the first failed sequence
//! number, so reporting the earliest failure is enough and loses nothing.

use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use playback_domain::ports::DeadLetter;
use playback_domain::{
    decode_record_each, Clock, InvalidEvent, PlaybackEvent, Reason, StreamPosition,
};
use serde::{Deserialize, Serialize};

mod payload;

pub use payload::{BatchPool, KinesisBatch, Record};

/// A valid event with its place in the stream and the index of its record in the batch.
#[derive(Debug)]
pub struct BatchEvent<'a> {
    pub event: PlaybackEvent<'a>,
    pub position: StreamPosition,
    pub record: usize,
}

#[derive(Debug, Default)]
pub struct DecodedBatch<'a> {
    pub events: Vec<BatchEvent<'a>>,
    pub dead: Vec<DeadLetter>,
    /// For each dead letter, the index of the record it came from.
    pub dead_records: Vec<usize>,
}

/// Decodes every record of a batch. Never fails: a bad event becomes a dead letter.
pub fn decode_batch<'a>(batch: &'a KinesisBatch, consumer: &str, clock: Clock) -> DecodedBatch<'a> {
    let mut out = DecodedBatch {
        events: Vec::with_capacity(batch.len()),
        ..Default::default()
    };
    for (i, r) in batch.records().enumerate() {
        let seq = r.sequence_number;
        let Some(data) = r.data else {
            let invalid = InvalidEvent::new(
                Reason::MalformedJson("record data is not base64".into()),
                None,
            );
            let source = format!("{}/{seq}/0", r.shard_id);
            out.dead
                .push(DeadLetter::new(consumer, source, b"", &invalid));
            out.dead_records.push(i);
            continue;
        };
        // One allocation per record; its events share it.
        let base = StreamPosition::new(seq, 0)
            .unwrap_or_else(|| StreamPosition::new("0", 0).expect("literal"));
        // An event's sub-position is its rank among the record's valid events,
        // not its line: the lake holds only valid events, each line with
        // Firehose's subsequenceNumber 0, and the backfill rebuilds exactly
        // this rank from row order (backfill::replay).
        let mut valid = 0u32;
        decode_record_each(data, clock, |d| match d.result {
            Ok(event) => {
                out.events.push(BatchEvent {
                    event,
                    position: base.with_sub(valid),
                    record: i,
                });
                valid += 1;
            }
            Err(invalid) => {
                let source = format!("{}/{seq}/{}", r.shard_id, d.index);
                out.dead
                    .push(DeadLetter::new(consumer, source, d.raw, &invalid));
                out.dead_records.push(i);
            }
        });
    }
    out
}

/// Records which batch indices failed and answers with the earliest one.
#[derive(Debug, Default)]
pub struct Failures {
    earliest: Option<usize>,
}

impl Failures {
    pub fn record(&mut self, record_index: usize) {
        self.earliest = Some(self.earliest.map_or(record_index, |e| e.min(record_index)));
    }

    pub fn is_empty(&self) -> bool {
        self.earliest.is_none()
    }

    pub fn into_items(self, batch: &KinesisBatch) -> Vec<KinesisBatchItemFailure> {
        self.earliest
            .map(|i| {
                let mut f = KinesisBatchItemFailure::default();
                f.item_identifier = Some(batch.record(i).sequence_number.to_string());
                vec![f]
            })
            .unwrap_or_default()
    }

    pub fn into_response(self, batch: &KinesisBatch) -> KinesisEventResponse {
        let mut resp = KinesisEventResponse::default();
        resp.batch_item_failures = self.into_items(batch);
        resp
    }
}

/// Tumbling-window answer: carried state plus partial failures. (aws_lambda_events'
/// own type lacks `batchItemFailures`, which Lambda accepts for windows too.)
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowResponse {
    pub state: std::collections::HashMap<String, String>,
    pub batch_item_failures: Vec<KinesisBatchItemFailure>,
}
