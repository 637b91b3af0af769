//! Turns a Lambda Kinesis batch into validated events (borrowed from the
//! record bytes) plus dead letters, and failures back into the
//! `batchItemFailures` answer: Lambda resumes from the first failed sequence
//! number, so reporting the earliest failure is enough and loses nothing.

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use playback_domain::ports::DeadLetter;
use playback_domain::{decode_record, Clock, PlaybackEvent, StreamPosition};
use serde::{Deserialize, Serialize};

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
pub fn decode_batch<'a>(
    records: &'a [KinesisEventRecord],
    consumer: &str,
    clock: Clock,
) -> DecodedBatch<'a> {
    let mut out = DecodedBatch {
        events: Vec::with_capacity(records.len()),
        ..Default::default()
    };
    for (i, r) in records.iter().enumerate() {
        let seq = &r.kinesis.sequence_number;
        let shard = shard_of(r);
        for d in decode_record(&r.kinesis.data.0, clock) {
            match d.result {
                Ok(event) => {
                    let position = StreamPosition::new(seq, d.index)
                        .unwrap_or_else(|| StreamPosition::new("0", d.index).expect("literal"));
                    out.events.push(BatchEvent {
                        event,
                        position,
                        record: i,
                    });
                }
                Err(invalid) => {
                    let source = format!("{shard}/{seq}/{}", d.index);
                    out.dead
                        .push(DeadLetter::new(consumer, source, d.raw, &invalid));
                    out.dead_records.push(i);
                }
            }
        }
    }
    out
}

/// The shard id: Lambda's eventID is `shardId-000000000000:<sequence number>`.
pub fn shard_of(r: &KinesisEventRecord) -> &str {
    r.event_id
        .as_deref()
        .and_then(|id| id.split(':').next())
        .unwrap_or("unknown-shard")
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

    pub fn into_items(self, records: &[KinesisEventRecord]) -> Vec<KinesisBatchItemFailure> {
        self.earliest
            .map(|i| {
                let mut f = KinesisBatchItemFailure::default();
                f.item_identifier = Some(records[i].kinesis.sequence_number.clone());
                vec![f]
            })
            .unwrap_or_default()
    }

    pub fn into_response(self, records: &[KinesisEventRecord]) -> KinesisEventResponse {
        let mut resp = KinesisEventResponse::default();
        resp.batch_item_failures = self.into_items(records);
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
