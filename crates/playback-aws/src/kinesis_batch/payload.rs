//! The Kinesis invocation payload (plain or tumbling-window) read in one pass.
//!
//! aws_lambda_events' `KinesisEventRecord` owns ~10 strings per record and its
//! `KinesisTimeWindowEvent` uses `#[serde(flatten)]`, which buffers the whole
//! payload before deserialising it again: together ~70 % of an invocation's
//! CPU. Here every record's base64-decoded data goes back to back into one
//! buffer, the sequence numbers and shard ids into one string, and every field
//! we never read is skipped. A record whose data is not base64 is kept (as
//! `None`) so that it becomes a dead letter instead of failing the batch.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use playback_domain::event::parse_rfc3339_ms;
use playback_domain::qoe::Window;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// One Lambda Kinesis invocation. Deserialise it from the payload JSON.
#[derive(Debug, Default)]
pub struct KinesisBatch {
    data: Vec<u8>,
    text: String,
    records: Vec<RecordRef>,
    /// Tumbling windows only: the window, the state Lambda carries, and flags.
    pub window: Option<Window>,
    pub state: HashMap<String, String>,
    pub shard_id: Option<String>,
    pub is_final_invoke_for_window: bool,
    pub is_window_terminated_early: bool,
}

/// Where one record's parts live in the batch's buffers.
#[derive(Debug, Clone, Copy, Default)]
struct RecordRef {
    data: Option<(u32, u32)>,
    seq: (u32, u32),
    shard: (u32, u32),
}

/// One record, borrowed from its batch.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The decoded bytes; `None` if the payload's `data` was not base64.
    pub data: Option<&'a [u8]>,
    pub sequence_number: &'a str,
    /// From the record's eventID (`shardId-...:<sequence number>`).
    pub shard_id: &'a str,
}

impl KinesisBatch {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn record(&self, i: usize) -> Record<'_> {
        let r = &self.records[i];
        let text = |(a, b): (u32, u32)| &self.text[a as usize..b as usize];
        let shard = text(r.shard);
        Record {
            data: r.data.map(|(a, b)| &self.data[a as usize..b as usize]),
            sequence_number: text(r.seq),
            shard_id: if shard.is_empty() {
                "unknown-shard"
            } else {
                shard
            },
        }
    }

    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        (0..self.len()).map(|i| self.record(i))
    }
}

#[derive(PartialEq)]
enum Key {
    Records,
    EventId,
    Kinesis,
    Data,
    SequenceNumber,
    Window,
    State,
    ShardId,
    IsFinal,
    TerminatedEarly,
    Other,
}

struct KeySeed;
impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}
impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "Records" => Key::Records,
            "eventID" => Key::EventId,
            "kinesis" => Key::Kinesis,
            "data" => Key::Data,
            "sequenceNumber" => Key::SequenceNumber,
            "window" => Key::Window,
            "state" => Key::State,
            "shardId" => Key::ShardId,
            "isFinalInvokeForWindow" => Key::IsFinal,
            "isWindowTerminatedEarly" => Key::TerminatedEarly,
            _ => Key::Other,
        })
    }
}

/// What a string value becomes: appended text, or base64-decoded bytes.
enum Sink<'b> {
    Text(&'b mut String),
    Base64(&'b mut Vec<u8>),
}

impl<'de> DeserializeSeed<'de> for Sink<'_> {
    type Value = Option<(u32, u32)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}
impl Visitor<'_> for Sink<'_> {
    type Value = Option<(u32, u32)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self {
            Sink::Text(t) => {
                let a = t.len();
                t.push_str(v);
                Ok(Some((a as u32, t.len() as u32)))
            }
            Sink::Base64(buf) => {
                let a = buf.len();
                let engine = &base64::engine::general_purpose::STANDARD;
                if engine.decode_vec(v.as_bytes(), buf).is_ok() {
                    Ok(Some((a as u32, buf.len() as u32)))
                } else {
                    buf.truncate(a);
                    Ok(None)
                }
            }
        }
    }
}

struct KinesisSeed<'b>(&'b mut KinesisBatch, &'b mut RecordRef);
impl<'de> DeserializeSeed<'de> for KinesisSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}
impl<'de> Visitor<'de> for KinesisSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the kinesis object of a record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        while let Some(k) = m.next_key_seed(KeySeed)? {
            match k {
                Key::Data => self.1.data = m.next_value_seed(Sink::Base64(&mut self.0.data))?,
                Key::SequenceNumber => {
                    let seq = m.next_value_seed(Sink::Text(&mut self.0.text))?;
                    self.1.seq = seq.unwrap_or_default();
                }
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct RecordSeed<'b>(&'b mut KinesisBatch);
impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}
impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kinesis record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let mut r = RecordRef::default();
        while let Some(k) = m.next_key_seed(KeySeed)? {
            match k {
                Key::EventId => {
                    let (a, b) = m
                        .next_value_seed(Sink::Text(&mut self.0.text))?
                        .unwrap_or_default();
                    // Keep the shard id only: the part before ':'.
                    let id = &self.0.text[a as usize..b as usize];
                    let end = a + id.find(':').unwrap_or(id.len()) as u32;
                    self.0.text.truncate(end as usize);
                    r.shard = (a, end);
                }
                Key::Kinesis => m.next_value_seed(KinesisSeed(self.0, &mut r))?,
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        self.0.records.push(r);
        Ok(())
    }
}

struct RecordsSeed<'b>(&'b mut KinesisBatch);
impl<'de> DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}
impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        while s.next_element_seed(RecordSeed(self.0))?.is_some() {}
        Ok(())
    }
}

#[derive(Deserialize)]
struct WireWindow<'a> {
    #[serde(borrow)]
    start: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    end: std::borrow::Cow<'a, str>,
}

/// Fills a batch in place (its buffers keep their capacity).
struct Top<'b>(&'b mut KinesisBatch);
impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}
impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Lambda Kinesis event")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
        let out = self.0;
        while let Some(k) = m.next_key_seed(KeySeed)? {
            match k {
                Key::Records => m.next_value_seed(RecordsSeed(out))?,
                Key::Window => {
                    let w: Option<WireWindow> = m.next_value()?;
                    if let Some(w) = w {
                        let ms = |s: &str| parse_rfc3339_ms(s).map_err(de::Error::custom);
                        out.window = Some(Window {
                            start_ms: ms(&w.start)?,
                            end_ms: ms(&w.end)?,
                        });
                    }
                }
                Key::State => out.state = m.next_value::<Option<_>>()?.unwrap_or_default(),
                Key::ShardId => out.shard_id = m.next_value()?,
                Key::IsFinal => out.is_final_invoke_for_window = m.next_value()?,
                Key::TerminatedEarly => out.is_window_terminated_early = m.next_value()?,
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for KinesisBatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = KinesisBatch::default();
        Top(&mut out).deserialize(d)?;
        Ok(out)
    }
}

impl KinesisBatch {
    /// Parses `json` into this batch, reusing its buffers. A warm Lambda
    /// parses megabytes per invocation; fresh buffers each time cost about
    /// as much again in page faults and growth copies (measured).
    pub fn parse_reusing(&mut self, json: &str) -> serde_json::Result<()> {
        self.clear();
        let mut de = serde_json::Deserializer::from_str(json);
        Top(self).deserialize(&mut de)?;
        de.end()
    }

    fn clear(&mut self) {
        self.data.clear();
        self.text.clear();
        self.records.clear();
        self.window = None;
        self.state.clear();
        self.shard_id = None;
        self.is_final_invoke_for_window = false;
        self.is_window_terminated_early = false;
    }
}

/// Batches kept between invocations so their buffers are reused.
#[derive(Debug, Default)]
pub struct BatchPool(std::sync::Mutex<Vec<KinesisBatch>>);

impl BatchPool {
    pub const fn new() -> Self {
        BatchPool(std::sync::Mutex::new(Vec::new()))
    }

    pub fn parse(&self, json: &str) -> serde_json::Result<KinesisBatch> {
        let reused = self.0.lock().ok().and_then(|mut v| v.pop());
        let mut batch = reused.unwrap_or_default();
        batch.parse_reusing(json)?;
        Ok(batch)
    }

    pub fn recycle(&self, batch: KinesisBatch) {
        if let Ok(mut v) = self.0.lock() {
            v.push(batch);
        }
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
