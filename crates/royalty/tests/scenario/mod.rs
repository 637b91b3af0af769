//! A generated lake for the royalty close tests: four days of playback events
//! with producer retries, identical re-deliveries, copies that differ, late
//! arrivals, events inside the grace window, clock skew across midnight and
//! invalid rows; plus the expected payouts computed straight from the
//! generated rows (never through the job's SQL).

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use playback_domain::event::format_rfc3339_ms;
use playback_domain::lake::{partition_of, LakeRow};

pub const GRACE_HOURS: i64 = 1;
const SHARDS: [&str; 2] = ["shardId-000000000000", "shardId-000000000001"];

/// splitmix64: a tiny seeded generator (same scenario on every run).
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Normal,
    Retry,
    Redelivery,
    Differing,
    Late,
    InGrace,
    Skew,
    Invalid,
}

/// One landed copy, with the file it went to (re-deliveries are a second object).
#[derive(Debug, Clone)]
pub struct Landed {
    pub row: LakeRow,
    pub ingest_ms: i64,
    pub file: u8,
}

pub struct Scenario {
    pub copies: Vec<Landed>,
    pub kinds: BTreeMap<String, Kind>,
}

pub fn ms(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

pub fn midnight(d: NaiveDate) -> i64 {
    ms(d.and_hms_opt(0, 0, 0).unwrap())
}

/// Ingest cutoff of the close of `d` (next midnight + grace).
pub fn cutoff(d: NaiveDate) -> i64 {
    midnight(d + Duration::days(1)) + GRACE_HOURS * 3_600_000
}

pub fn day_of(ms_: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms_)
        .unwrap()
        .date_naive()
}

struct Gen {
    rng: Rng,
    seq: [u64; 2],
    out: Vec<Landed>,
}

impl Gen {
    fn row(&mut self, id: &str, title: usize, event_ms: i64, watched: Option<i64>) -> LakeRow {
        let viewer = self.rng.below(40);
        LakeRow {
            event_id: id.into(),
            event_type: if watched.is_some() {
                "heartbeat"
            } else {
                "session_start"
            }
            .into(),
            event_time: format_rfc3339_ms(event_ms),
            viewer_id: format!("v-{viewer:03}"),
            session_id: format!("s-{viewer:03}-{}", self.rng.below(3)),
            title_id: format!("t-{title:02}"),
            region: ["eu-west", "us-east", "ap-south"][self.rng.below(3) as usize].into(),
            watched_ms: watched,
            stalled_ms: Some(self.rng.below(2_000) as i64),
            bitrate_kbps: Some(4_500),
            position_ms: Some(self.rng.below(3_600_000) as i64),
            device_platform: Some("tv".into()),
            app_version: Some("5.1.0".into()),
            error_code: None,
            startup_ms: None,
            schema_version: 1,
            ingest_time: String::new(),
            ingest_shard: String::new(),
            ingest_seq: String::new(),
            ingest_sub: 0,
        }
    }

    /// Lands `row` at `ingest_ms` on a shard with the next sequence number.
    fn land(&mut self, mut row: LakeRow, ingest_ms: i64, file: u8) -> LakeRow {
        let s = self.rng.below(2) as usize;
        self.seq[s] += 1 + self.rng.below(5);
        row.ingest_time = format_rfc3339_ms(ingest_ms);
        row.ingest_shard = SHARDS[s].into();
        // Real sequence numbers are long decimals; lengths vary here so that
        // comparing them as strings would pick wrong winners.
        row.ingest_seq = self.seq[s].to_string();
        self.out.push(Landed {
            row: row.clone(),
            ingest_ms,
            file,
        });
        row
    }
}

/// `per_day` events for each day of `days`, plus a few from the day before.
pub fn generate(seed: u64, days: &[NaiveDate], per_day: usize) -> Scenario {
    let mut g = Gen {
        rng: Rng::new(seed),
        seq: [7, 95],
        out: Vec::new(),
    };
    let mut kinds = BTreeMap::new();
    let first = days[0] - Duration::days(1);
    let all: Vec<NaiveDate> = std::iter::once(first).chain(days.iter().copied()).collect();
    for (di, &day) in all.iter().enumerate() {
        let n = if di == 0 { per_day / 10 } else { per_day };
        for i in 0..n {
            let id = format!("ev-{day}-{i:04}");
            let title = g.rng.below(8) as usize;
            let watched = Some(1_000 + g.rng.below(60_000) as i64);
            let mut kind = match g.rng.below(100) {
                0..=59 => Kind::Normal,
                60..=71 => Kind::Retry,
                72..=76 => Kind::Redelivery,
                77..=82 => Kind::Differing,
                83..=88 => Kind::Late,
                89..=92 => Kind::InGrace,
                93..=95 => Kind::Skew,
                _ => Kind::Invalid,
            };
            if di == 0 {
                kind = Kind::Late; // events of the day before the first close, arriving in it
            }
            let event_ms = midnight(day) + g.rng.below(86_400_000) as i64;
            let prompt = event_ms + 200 + g.rng.below(3_000) as i64;
            match kind {
                Kind::Normal => {
                    let r = g.row(&id, title, event_ms, watched);
                    g.land(r, prompt, 0);
                }
                Kind::Retry => {
                    let r = g.row(&id, title, event_ms, watched);
                    let r = g.land(r, prompt, 0);
                    // A third of the retries arrive hours later, often after the close.
                    let delay = match g.rng.below(3) {
                        0 => 2 * 3_600_000 + g.rng.below(30 * 3_600_000),
                        _ => 1_000 + g.rng.below(600_000),
                    } as i64;
                    g.land(r, prompt + delay, 0);
                }
                Kind::Redelivery => {
                    let r = g.row(&id, title, event_ms, watched);
                    let r = g.land(r, prompt, 0);
                    g.out.push(Landed {
                        row: r,
                        ingest_ms: prompt,
                        file: 1,
                    });
                }
                Kind::Differing => differing(&mut g, &id, title, event_ms, prompt),
                Kind::Late => {
                    let at =
                        cutoff(day).max(midnight(days[0])) + g.rng.below(40 * 3_600_000) as i64;
                    let r = g.row(&id, title, event_ms, watched);
                    g.land(r, at, 0);
                }
                Kind::InGrace => {
                    let e = midnight(day) + 86_399_000 + g.rng.below(999) as i64;
                    let at =
                        midnight(day + Duration::days(1)) + 600_000 + g.rng.below(3_000_000) as i64;
                    let r = g.row(&id, title, e, watched);
                    g.land(r, at, 0);
                }
                Kind::Skew => {
                    // Device clock ahead: event just after midnight, arrival just before.
                    let next = midnight(day + Duration::days(1));
                    let (ahead, early) = (g.rng.below(240_000) as i64, g.rng.below(50_000) as i64);
                    let r = g.row(&id, title, next + ahead, watched);
                    g.land(r, next - 1 - early, 0);
                }
                Kind::Invalid => {
                    let mut r = g.row(&id, title, event_ms, None);
                    if i % 2 == 0 {
                        r.watched_ms = Some(-5);
                    }
                    g.land(r, prompt, 0);
                }
            }
            kinds.insert(id, kind);
        }
    }
    Scenario {
        copies: g.out,
        kinds,
    }
}

/// Copies that differ (a buggy producer re-sent with other values). The
/// arrival order is forced through each tie-breaker in turn.
fn differing(g: &mut Gen, id: &str, title: usize, event_ms: i64, at: i64) {
    let watched = 10_000 + g.rng.below(9_000) as i64;
    let a = g.row(id, title, event_ms, Some(watched));
    let mut b = a.clone();
    b.watched_ms = Some(40_000 + g.rng.below(9_000) as i64);
    b.title_id = format!("t-{:02}", (title + 1) % 8);
    let stamp = |r: &mut LakeRow, shard: &str, seq: &str, sub: u32| {
        r.ingest_time = format_rfc3339_ms(at);
        r.ingest_shard = shard.into();
        r.ingest_seq = seq.into();
        r.ingest_sub = sub;
    };
    match g.rng.below(4) {
        0 => {
            // b arrives later: a wins on ingest_time
            g.land(a, at, 0);
            g.land(b, at + 5_000, 0);
        }
        1 => {
            // same instant: shard decides (shard 0 < shard 1)
            let (mut a, mut b) = (a, b);
            stamp(&mut b, SHARDS[0], "500", 0);
            stamp(&mut a, SHARDS[1], "400", 0);
            g.out.push(Landed {
                row: a,
                ingest_ms: at,
                file: 0,
            });
            g.out.push(Landed {
                row: b,
                ingest_ms: at,
                file: 0,
            });
        }
        2 => {
            // same instant and shard: "99" < "100" as numbers, not as strings
            let (mut a, mut b) = (a, b);
            stamp(&mut a, SHARDS[1], "100", 0);
            stamp(&mut b, SHARDS[1], "99", 0);
            g.out.push(Landed {
                row: a,
                ingest_ms: at,
                file: 0,
            });
            g.out.push(Landed {
                row: b,
                ingest_ms: at,
                file: 1,
            });
        }
        _ => {
            // one aggregated record: sub-record index decides
            let (mut a, mut b) = (a, b);
            stamp(&mut a, SHARDS[0], "77", 3);
            stamp(&mut b, SHARDS[0], "77", 2);
            g.out.push(Landed {
                row: a,
                ingest_ms: at,
                file: 0,
            });
            g.out.push(Landed {
                row: b,
                ingest_ms: at,
                file: 0,
            });
        }
    }
}

/// Expected payouts: for each close in order, each event_id not yet paid whose
/// winning copy (among valid copies that arrived before the cutoff) has an
/// event day <= the close day. Winner: earliest arrival, then shard, then
/// sequence number as a number (digit count, then digits; never an integer
/// parse: real ones have up to 129 digits), then sub-record, then content.
pub fn expected(copies: &[Landed], closes: &[NaiveDate]) -> BTreeMap<String, (NaiveDate, LakeRow)> {
    let key = |c: &Landed| {
        let r = &c.row;
        let seq = (r.ingest_seq.len(), r.ingest_seq.clone());
        (
            c.ingest_ms,
            r.ingest_shard.clone(),
            seq,
            r.ingest_sub,
            r.title_id.clone(),
            r.watched_ms,
        )
    };
    let mut by_id: BTreeMap<&str, Vec<&Landed>> = BTreeMap::new();
    for c in copies {
        let valid = c.row.watched_ms.is_some_and(|w| w >= 0) && !c.row.title_id.is_empty();
        if valid {
            by_id.entry(&c.row.event_id).or_default().push(c);
        }
    }
    let mut paid = BTreeMap::new();
    for &close in closes {
        for (id, cs) in &by_id {
            if paid.contains_key(*id) {
                continue;
            }
            let before: Vec<&&Landed> = cs.iter().filter(|c| c.ingest_ms < cutoff(close)).collect();
            if let Some(w) = before.into_iter().min_by_key(|c| key(c)) {
                let event_day =
                    day_of(playback_domain::event::parse_rfc3339_ms(&w.row.event_time).unwrap());
                if event_day <= close {
                    paid.insert(id.to_string(), (close, w.row.clone()));
                }
            }
        }
    }
    paid
}

/// Files to land: (key, rows) per partition and file index.
pub fn files(copies: &[&Landed], prefix: &str) -> BTreeMap<String, Vec<LakeRow>> {
    let mut out: BTreeMap<String, Vec<LakeRow>> = BTreeMap::new();
    for c in copies {
        let (dt, hour) = partition_of(c.ingest_ms);
        let key = format!("{prefix}dt={dt}/hour={hour}/part-{}.parquet", c.file);
        out.entry(key).or_default().push(c.row.clone());
    }
    out
}

pub fn duplicated_ids(copies: &[Landed]) -> usize {
    let mut seen = HashSet::new();
    let mut dup = HashSet::new();
    for c in copies {
        if !seen.insert(&c.row.event_id) {
            dup.insert(&c.row.event_id);
        }
    }
    dup.len()
}
