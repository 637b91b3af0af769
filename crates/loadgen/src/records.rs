//! From event lines to stream records: one event per record, or events packed
//! as newline-delimited JSON up to `pack_bytes`, plus producer re-sends of
//! whole records. A pack holds one viewer's events, or (`pack_buckets`) those
//! of every viewer hashed to one partition bucket, as an ingest edge would
//! pack them; either way a viewer's events reach one shard in order.

use playback_domain::event::MAX_EVENTS_PER_RECORD;
use std::collections::{BTreeMap, HashMap, VecDeque};

use rand::rngs::StdRng;
use rand::Rng;

use crate::config::ScenarioConfig;
use crate::error::LoadgenError;
use crate::manifest::{Ledger, LineEntry, Manifest};
use crate::population::{rng_for, RateGate, Stream};
use crate::scenario::{Generator, Line};

/// One stream record: partition key (viewer_id) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the emitted stream (re-sends get their own).
    pub index: u64,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// Simulated send time (epoch ms): the pacer sends it at this offset.
    pub emit_ms: i64,
    /// For a producer re-send, the index of the record it repeats.
    pub duplicate_of: Option<u64>,
}

/// A record and the ledger entries of its lines, in line order.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub record: Record,
    pub lines: Vec<LineEntry>,
}

impl Emitted {
    /// The record's lines with their entries (the JSON bodies, e.g. for SQS).
    pub fn lines_with_entries(&self) -> impl Iterator<Item = (&[u8], &LineEntry)> {
        self.record.data.split(|b| *b == b'\n').zip(&self.lines)
    }
}

struct Pack {
    partition_key: String,
    data: Vec<u8>,
    lines: Vec<LineEntry>,
    first_ms: i64,
    id: u64,
}

impl Pack {
    fn new(line: Line, id: u64, partition_key: String) -> Self {
        let mut entry = line.entry;
        entry.line = 0;
        Pack {
            partition_key,
            first_ms: entry.emit_ms,
            data: line.json.into_bytes(),
            lines: vec![entry],
            id,
        }
    }

    fn append(&mut self, line: Line) {
        let mut entry = line.entry;
        entry.line = self.lines.len() as u32;
        self.data.push(b'\n');
        self.data.extend_from_slice(line.json.as_bytes());
        self.lines.push(entry);
    }

    fn seal(self, emit_ms: i64) -> Emitted {
        Emitted {
            record: Record {
                index: 0,
                partition_key: self.partition_key,
                data: self.data,
                emit_ms,
                duplicate_of: None,
            },
            lines: self.lines,
        }
    }
}

/// Packs lines per viewer (or per bucket of viewers); a pack goes out when
/// the next line would overflow it (bytes, or the contract's 500 events), when it is `linger_ms` old (simulated),
/// or at the end.
pub struct Packer {
    pack_bytes: usize,
    linger_ms: i64,
    buckets: u32,
    open: HashMap<u32, Pack>,
    deadlines: VecDeque<(i64, u32, u64)>,
    next_id: u64,
    last_ms: i64,
}

impl Packer {
    pub fn new(pack_bytes: usize, linger_ms: i64, buckets: u32) -> Self {
        Packer {
            pack_bytes,
            linger_ms,
            buckets,
            open: HashMap::new(),
            deadlines: VecDeque::new(),
            next_id: 0,
            last_ms: i64::MIN,
        }
    }

    /// Takes the next line (in emit order); sealed records go to `out` in emit order.
    pub fn push(&mut self, line: Line, out: &mut VecDeque<Emitted>) {
        let t = line.entry.emit_ms;
        self.last_ms = self.last_ms.max(t);
        while let Some(&(deadline, key, id)) = self.deadlines.front() {
            if deadline > t {
                break;
            }
            self.deadlines.pop_front();
            if self.open.get(&key).is_some_and(|p| p.id == id) {
                let p = self.open.remove(&key).expect("checked");
                out.push_back(p.seal(deadline));
            }
        }
        // The pack's key: the viewer, or its bucket (keys a viewer never changes).
        let (key, partition_key) = match self.buckets {
            0 => (line.viewer, line.entry.viewer_id.clone()),
            n => {
                let b = (playback_domain::metrics::stable_hash(&[&line.entry.viewer_id])
                    % u64::from(n)) as u32;
                (b, format!("bucket-{b:05}"))
            }
        };
        if let Some(p) = self.open.get_mut(&key) {
            let fits = p.data.len() + 1 + line.json.len() <= self.pack_bytes;
            if fits && p.lines.len() < MAX_EVENTS_PER_RECORD {
                p.append(line);
                return;
            }
            let p = self.open.remove(&key).expect("checked");
            out.push_back(p.seal(t));
        }
        self.next_id += 1;
        let alone = line.json.len() >= self.pack_bytes;
        let pack = Pack::new(line, self.next_id, partition_key);
        if alone {
            out.push_back(pack.seal(t));
            return;
        }
        if self.linger_ms > 0 {
            self.deadlines
                .push_back((t + self.linger_ms, key, self.next_id));
        }
        self.open.insert(key, pack);
    }

    /// Seals every open pack, oldest first.
    pub fn finish(&mut self, out: &mut VecDeque<Emitted>) {
        let mut packs: Vec<Pack> = self.open.drain().map(|(_, p)| p).collect();
        packs.sort_by_key(|p| (p.first_ms, p.id));
        self.deadlines.clear();
        for p in packs {
            out.push_back(p.seal(self.last_ms));
        }
    }
}

/// The full record stream of a scenario (a lazy iterator: memory stays flat
/// however long the run). Same config, same records, byte for byte.
pub struct RecordStream {
    lines: Generator,
    packer: Packer,
    staged: VecDeque<Emitted>,
    resends: BTreeMap<(i64, u64), Emitted>,
    retry_gate: RateGate,
    rng_retry: StdRng,
    next_index: u64,
    finished: bool,
}

impl RecordStream {
    pub fn new(cfg: ScenarioConfig) -> Result<Self, LoadgenError> {
        let mut rng_retry = rng_for(cfg.seed, Stream::Retry);
        let retry_gate = RateGate::new(cfg.retry_rate, &mut rng_retry);
        let linger_ms = (cfg.pack_linger_s * 1_000.0).round() as i64;
        let packer = Packer::new(cfg.pack_bytes, linger_ms, cfg.pack_buckets);
        Ok(RecordStream {
            lines: Generator::new(cfg)?,
            packer,
            staged: VecDeque::new(),
            resends: BTreeMap::new(),
            retry_gate,
            rng_retry,
            next_index: 0,
            finished: false,
        })
    }

    pub fn generator(&self) -> &Generator {
        &self.lines
    }
}

impl Iterator for RecordStream {
    type Item = Emitted;

    fn next(&mut self) -> Option<Emitted> {
        while self.staged.is_empty() && !self.finished {
            match self.lines.next() {
                Some(line) => self.packer.push(line, &mut self.staged),
                None => {
                    self.packer.finish(&mut self.staged);
                    self.finished = true;
                }
            }
        }
        let original_ms = self.staged.front().map(|e| e.record.emit_ms);
        let resend_ms = self.resends.first_key_value().map(|((t, _), _)| *t);
        let resend = match (original_ms, resend_ms) {
            (Some(o), Some(r)) => r <= o,
            (None, r) => r.is_some(),
            (Some(_), None) => false,
        };
        let mut em = if resend {
            let ((due, _), mut e) = self.resends.pop_first()?;
            e.record.emit_ms = due;
            for l in &mut e.lines {
                l.emit_ms = due;
            }
            e
        } else {
            self.staged.pop_front()?
        };
        let index = self.next_index;
        self.next_index += 1;
        em.record.index = index;
        for l in &mut em.lines {
            l.record = index;
        }
        if !resend && self.retry_gate.hit(&mut self.rng_retry) {
            let due = em.record.emit_ms + self.rng_retry.random_range(200..=2_000);
            let mut copy = em.clone();
            copy.record.duplicate_of = Some(index);
            for l in &mut copy.lines {
                l.duplicate = true;
            }
            self.resends.insert((due, index), copy);
        }
        Some(em)
    }
}

/// A whole run in memory: the records and the manifest of every line.
#[derive(Debug, Clone)]
pub struct Generated {
    pub records: Vec<Record>,
    pub manifest: Manifest,
}

/// Pure: the records of a scenario and its ground truth.
pub fn generate(cfg: &ScenarioConfig) -> Result<Generated, LoadgenError> {
    let mut ledger = Ledger::new(true);
    let records = RecordStream::new(cfg.clone())?
        .map(|em| {
            ledger.add(&em);
            em.record
        })
        .collect();
    Ok(Generated {
        records,
        manifest: ledger.into_manifest(cfg.clone()),
    })
}
