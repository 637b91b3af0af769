//! The deterministic event generator. Sessions live on a simulated clock: a
//! session starts, emits a heartbeat every `heartbeat_s` (with the interval's
//! extras at random instants inside it) and ends; enough sessions run at once
//! that the events add up to the target rate. Lines come out in emit-time
//! order, each with its ground-truth ledger entry.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use playback_domain::{EventType, OwnedEvent};
use rand::rngs::StdRng;
use rand::Rng;

pub use crate::config::{BadFirmware, BadRelease, Incident, ScenarioConfig, Spike};
use crate::error::LoadgenError;
use crate::malformed::{corrupt, MalformedKind};
use crate::manifest::LineEntry;
use crate::population::{rng_for, Population, RateGate, Stream, BITRATE_LADDER, TASTE_SHARE};
use crate::release::ReleaseAt;
pub use crate::session::{events_per_interval, EVENTS_PER_INTERVAL, MEAN_SESSION_S};
use crate::session::{plan_interval, IncidentAt, IntervalEnv, Planned, Session};
use crate::startup;

/// One generated event line and its ledger entry (`record`/`line` are set when packed).
#[derive(Debug, Clone)]
pub struct Line {
    pub viewer: u32,
    pub json: String,
    pub entry: LineEntry,
}

/// Iterator of [`Line`]s in emit-time order. Same config, same lines.
pub struct Generator {
    cfg: ScenarioConfig,
    pop: Population,
    rng: StdRng,
    rng_incident: StdRng,
    rng_corrupt: StdRng,
    rng_late: StdRng,
    /// The bad release's draws, and those of every retry session.
    rng_release: StdRng,
    /// startup_ms draws: a stream of its own, so the v2 field shifts nothing else.
    rng_startup: StdRng,
    /// The taste coin of each session start: a stream of its own, so that
    /// tastes move no other draw.
    rng_taste: StdRng,
    corrupt_gate: RateGate,
    late_gate: RateGate,
    heap: BinaryHeap<Reverse<(i64, u64, usize)>>,
    slots: Vec<Option<Session>>,
    free: Vec<usize>,
    tick: u64,
    /// Sessions running and not yet told to end.
    live: usize,
    base_target: usize,
    spike: Option<(i64, i64, f64)>,
    spike_injected: bool,
    incident: Option<IncidentAt>,
    release: Option<ReleaseAt>,
    sessions_of: Vec<u32>,
    emitted: u64,
    h: i64,
}

impl Generator {
    pub fn new(cfg: ScenarioConfig) -> Result<Self, LoadgenError> {
        cfg.validate()?;
        let pop = Population::new(cfg.seed, cfg.viewers as usize, cfg.titles as usize);
        let mut rng_corrupt = rng_for(cfg.seed, Stream::Corruption);
        let mut rng_late = rng_for(cfg.seed, Stream::Late);
        let corrupt_gate = RateGate::new(
            cfg.bad_firmware.as_ref().map_or(0.0, |b| b.rate),
            &mut rng_corrupt,
        );
        let late_gate = RateGate::new(cfg.late_rate, &mut rng_late);
        let h = cfg.heartbeat_ms();
        let per_interval = events_per_interval(cfg.heartbeat_s, cfg.mean_session_s);
        let base_target =
            ((cfg.rate * cfg.heartbeat_s as f64 / per_interval).round() as usize).max(1);
        let incident = cfg.incident.as_ref().map(|i| {
            let (start_ms, end_ms) = cfg.incident_interval_ms().expect("incident set");
            IncidentAt {
                title: pop.catalog.index_of(&i.title_id).expect("validated title"),
                region: i.region.clone(),
                start_ms,
                end_ms,
                stall_fraction: i.stall_fraction,
            }
        });
        let spike = cfg.spike_interval_ms().map(|(s, e)| {
            let f = cfg.spike.as_ref().map_or(1.0, |sp| sp.factor);
            (s, e, f)
        });
        let mut g = Generator {
            rng: rng_for(cfg.seed, Stream::Sessions),
            rng_incident: rng_for(cfg.seed, Stream::Incident),
            rng_release: rng_for(cfg.seed, Stream::Release),
            rng_startup: rng_for(cfg.seed, Stream::Startup),
            rng_taste: rng_for(cfg.seed, Stream::TasteCoin),
            release: ReleaseAt::of(&cfg),
            sessions_of: vec![0; pop.viewers.len()],
            pop,
            rng_corrupt,
            rng_late,
            corrupt_gate,
            late_gate,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            tick: 0,
            live: 0,
            base_target,
            spike,
            spike_injected: false,
            incident,
            emitted: 0,
            h,
            cfg,
        };
        let start = g.cfg.start_time_ms;
        for _ in 0..base_target {
            let at = start + g.rng.random_range(0..h);
            g.start_session(at);
        }
        Ok(g)
    }

    pub fn config(&self) -> &ScenarioConfig {
        &self.cfg
    }

    pub fn population(&self) -> &Population {
        &self.pop
    }

    /// Sessions the rate calls for at simulated time `t`.
    pub fn target_sessions(&self, t: i64) -> usize {
        match self.spike {
            Some((s, e, f)) if t >= s && t < e => (self.base_target as f64 * f).round() as usize,
            _ => self.base_target,
        }
    }

    fn push(&mut self, at: i64, slot: usize) {
        self.tick += 1;
        self.heap.push(Reverse((at, self.tick, slot)));
    }

    fn start_session(&mut self, at: i64) {
        let viewer = self.rng.random_range(0..self.pop.viewers.len());
        // One uniform from the session stream either way: the coin only
        // chooses which popularity it is a quantile of.
        let u = self.rng.random::<f64>();
        let catalog = &self.pop.catalog;
        let title = if self.rng_taste.random::<f64>() < TASTE_SHARE {
            catalog.sample_in_genre_at(self.pop.viewers[viewer].favourite_genre, u)
        } else {
            None
        }
        .unwrap_or_else(|| catalog.sample_at(u));
        self.open_session(at, viewer, title, 1);
    }

    /// A session of `viewer` on `title`; draws from the session stream for a
    /// first attempt, from the release stream for a retry (so that failures
    /// do not reshuffle everyone else's traffic).
    fn open_session(&mut self, at: i64, viewer: usize, title: usize, attempt: u32) {
        let rng = if attempt > 1 {
            &mut self.rng_release
        } else {
            &mut self.rng
        };
        let runtime = self.pop.catalog.runtime_ms[title];
        let resume = rng.random::<f64>() < 0.3;
        let position_ms = if resume {
            rng.random_range(0..runtime / 2)
        } else {
            0
        };
        let mean = (self.cfg.mean_session_s / self.cfg.heartbeat_s as f64).max(2.0);
        let u: f64 = rng.random::<f64>().max(1e-12);
        let heartbeats_left = (u.ln() / (1.0 - 1.0 / mean).ln()).floor() as u32 + 1;
        let v = &self.pop.viewers[viewer];
        let rung = v.max_rung.min(rng.random_range(1..=3));
        self.sessions_of[viewer] += 1;
        let mut start = Planned::new(at, EventType::SessionStart, position_ms);
        start.bitrate = Some(BITRATE_LADDER[rung]);
        let session = Session {
            id: format!("{}-s{}", v.id, self.sessions_of[viewer]),
            viewer,
            title,
            seq: 0,
            position_ms,
            rung,
            heartbeats_left,
            pending: VecDeque::from([start]),
            attempt,
            failed: false,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(session);
                s
            }
            None => {
                self.slots.push(Some(session));
                self.slots.len() - 1
            }
        };
        self.live += 1;
        self.push(at, slot);
    }

    /// Plans a session's next interval from `t0`: extras, then a heartbeat or its end.
    fn plan(&mut self, slot: usize, t0: i64) {
        let mut s = self.slots[slot].take().expect("planned session exists");
        // Always draw the same uniforms, so scenarios do not shift the base traffic.
        let u: [f64; 16] = if s.attempt > 1 {
            self.rng_release.random()
        } else {
            self.rng.random()
        };
        let must_end = s.heartbeats_left == 0 || self.live > self.target_sessions(t0);
        let env = IntervalEnv {
            h: self.h,
            baseline_stall: self.cfg.baseline_stall,
            viewer: &self.pop.viewers[s.viewer],
            runtime_ms: self.pop.catalog.runtime_ms[s.title],
            incident: self.incident.as_ref(),
            release: self.release.as_ref(),
        };
        let (ri, rr) = (&mut self.rng_incident, &mut self.rng_release);
        if plan_interval(&mut s, t0, must_end, &env, &u, ri, rr) {
            self.live -= 1;
        }
        let front = s.pending.front().expect("planned").at;
        self.slots[slot] = Some(s);
        self.push(front, slot);
    }

    fn emit(&mut self, slot: usize, p: &Planned) -> Line {
        let s = self.slots[slot].as_mut().expect("emitting session exists");
        let v = &self.pop.viewers[s.viewer];
        let event_id = format!("{}-{}", s.id, s.seq);
        s.seq += 1;
        let schema_version = startup::schema_version(v);
        let startup_ms = (p.kind == EventType::SessionStart && schema_version >= 2).then(|| {
            let slow = self.incident.as_ref().is_some_and(|i| {
                i.title == s.title && i.region == v.region && (i.start_ms..i.end_ms).contains(&p.at)
            });
            startup::draw(&mut self.rng_startup, slow)
        });
        let mut event: OwnedEvent = OwnedEvent {
            event_id: Cow::Owned(event_id),
            event_type: p.kind,
            event_time_ms: p.at,
            viewer_id: Cow::Owned(v.id.clone()),
            session_id: Cow::Owned(s.id.clone()),
            title_id: Cow::Owned(self.pop.catalog.ids[s.title].clone()),
            region: Cow::Borrowed(v.region),
            watched_ms: p.watched,
            stalled_ms: p.stalled,
            bitrate_kbps: p.bitrate,
            position_ms: p.position,
            device_platform: Some(Cow::Borrowed(v.platform)),
            app_version: Some(Cow::Borrowed(v.app_version)),
            error_code: p.error_code.map(Cow::Borrowed),
            startup_ms,
            schema_version,
        };
        let buggy = self
            .cfg
            .bad_firmware
            .as_ref()
            .is_some_and(|b| b.app_version == "*" || b.app_version == v.app_version);
        let mut entry = LineEntry::of(&event, p.at);
        let json = if buggy && self.corrupt_gate.hit(&mut self.rng_corrupt) {
            let kind =
                MalformedKind::ALL[self.rng_corrupt.random_range(0..MalformedKind::ALL.len())];
            let c = corrupt(event, kind, &mut self.rng_corrupt);
            entry.valid = false;
            entry.malformed = Some(kind);
            entry.event_time_ms = c.event_time_ms;
            entry.watched_ms = c.watched_ms;
            c.json
        } else {
            if p.kind == EventType::Heartbeat && self.late_gate.hit(&mut self.rng_late) {
                event.event_time_ms -= self.cfg.late_ms();
                entry.event_time_ms = event.event_time_ms;
                entry.late = true;
            }
            event.to_json()
        };
        Line {
            viewer: s.viewer as u32,
            json,
            entry,
        }
    }

    fn after(&mut self, slot: usize, p: &Planned) {
        let s = self.slots[slot].as_ref().expect("session exists");
        if let Some(next) = s.pending.front() {
            let at = next.at;
            self.push(at, slot);
        } else if p.kind == EventType::SessionEnd {
            let s = self.slots[slot].take().expect("session exists");
            self.free.push(slot);
            if s.failed && s.attempt < BadRelease::MAX_ATTEMPTS {
                let at = p.at + self.rng_release.random_range(2_000..6_000);
                self.open_session(at, s.viewer, s.title, s.attempt + 1);
            }
            while self.live < self.target_sessions(p.at) {
                let at = p.at + self.rng.random_range(0..self.h);
                self.start_session(at);
            }
        } else {
            self.plan(slot, p.at);
        }
    }

    fn inject_spike(&mut self, start: i64, end: i64) {
        self.spike_injected = true;
        let ramp = self.h.min(end - start).max(1);
        while self.live < self.target_sessions(start) {
            let at = start + self.rng.random_range(0..ramp);
            self.start_session(at);
        }
    }
}

impl Iterator for Generator {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        if self.cfg.events.is_some_and(|n| self.emitted >= n) {
            return None;
        }
        loop {
            let &Reverse((at, _, slot)) = self.heap.peek()?;
            if let Some((s, e, _)) = self.spike {
                if !self.spike_injected && at >= s {
                    self.inject_spike(s, e);
                    continue;
                }
            }
            if self.cfg.end_ms().is_some_and(|end| at >= end) {
                return None;
            }
            self.heap.pop();
            let p = self.slots[slot]
                .as_mut()
                .and_then(|s| s.pending.pop_front())
                .expect("scheduled session has a planned event");
            let line = self.emit(slot, &p);
            self.after(slot, &p);
            self.emitted += 1;
            return Some(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_mostly_watch_their_favourite_genre() {
        let cfg = ScenarioConfig {
            viewers: 500,
            titles: 120,
            rate: 200.0,
            duration_s: Some(600.0),
            ..Default::default()
        };
        let g = Generator::new(cfg).unwrap();
        let pop = g.population().clone();
        let (mut starts, mut in_favourite, mut baseline) = (0usize, 0usize, 0.0);
        for line in g {
            if line.entry.event_type != EventType::SessionStart {
                continue;
            }
            let fav = pop.viewers[line.viewer as usize].favourite_genre;
            let title = pop.catalog.index_of(&line.entry.title_id).unwrap();
            starts += 1;
            in_favourite += usize::from(pop.catalog.genre[title] == fav);
            // What popularity alone would give this viewer's favourite genre.
            baseline += pop.catalog.genre_share(fav);
        }
        assert!(starts > 1_000, "{starts} session starts");
        let share = in_favourite as f64 / starts as f64;
        let baseline = baseline / starts as f64;
        assert!(
            share > baseline + 0.5,
            "favourite-genre share {share:.3}, popularity alone {baseline:.3}"
        );
        let expected = TASTE_SHARE + (1.0 - TASTE_SHARE) * baseline;
        assert!(
            (share - expected).abs() < 0.05,
            "{share:.3} vs {expected:.3}"
        );
    }
}
