//! One session's life between two heartbeats: what it plans for the next
//! interval (extras at random instants, then a heartbeat or its end), with
//! the baseline stall, or the incident's when one applies.

use std::collections::VecDeque;

use playback_domain::EventType;
use rand::rngs::StdRng;
use rand::Rng;

use crate::population::{Viewer, BITRATE_LADDER};

// Chances per heartbeat interval of a session.
pub(crate) const P_BASE_STALL: f64 = 0.08;
pub(crate) const P_REBUFFER_EVENTS: f64 = 0.3;
pub(crate) const P_INCIDENT_REBUFFER_EVENTS: f64 = 0.8;
pub(crate) const P_PAUSE: f64 = 0.01;
pub(crate) const P_SEEK: f64 = 0.01;
pub(crate) const P_BITRATE: f64 = 0.03;
pub(crate) const P_SKIP: f64 = 0.005;
pub(crate) const P_SAVE: f64 = 0.003;
pub(crate) const P_ERROR: f64 = 0.002;
pub(crate) const P_FATAL: f64 = 0.3;
/// Mean session length (simulated seconds).
pub const MEAN_SESSION_S: f64 = 1_500.0;
/// Expected events per session per heartbeat interval (heartbeat + extras +
/// amortised start/end): turns the target rate into a number of live sessions.
pub const EVENTS_PER_INTERVAL: f64 = 1.0
    + 2.0 * P_BASE_STALL * P_REBUFFER_EVENTS
    + 2.0 * P_PAUSE
    + P_SEEK
    + P_BITRATE
    + P_SKIP
    + P_SAVE
    + P_ERROR
    + 0.013;
pub(crate) const ERROR_CODES: [&str; 4] = [
    "CDN_TIMEOUT",
    "DRM_LICENSE_FAILED",
    "DECODER_ERROR",
    "MANIFEST_404",
];

#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub at: i64,
    pub kind: EventType,
    pub watched: Option<i64>,
    pub stalled: Option<i64>,
    pub bitrate: Option<i64>,
    pub position: Option<i64>,
    pub error_code: Option<&'static str>,
}

impl Planned {
    pub fn new(at: i64, kind: EventType, position: i64) -> Self {
        Planned {
            at,
            kind,
            watched: None,
            stalled: None,
            bitrate: None,
            position: Some(position),
            error_code: None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Session {
    pub viewer: usize,
    pub id: String,
    pub title: usize,
    pub seq: u32,
    pub position_ms: i64,
    pub rung: usize,
    pub heartbeats_left: u32,
    pub pending: VecDeque<Planned>,
}

pub(crate) struct IncidentAt {
    pub title: usize,
    pub region: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub stall_fraction: f64,
}

/// What planning an interval needs to know besides the session.
pub(crate) struct IntervalEnv<'a> {
    pub h: i64,
    pub baseline_stall: f64,
    pub viewer: &'a Viewer,
    pub runtime_ms: i64,
    pub incident: Option<&'a IncidentAt>,
}

/// Plans the interval from `t0` into `s.pending`; `u` are the session
/// stream's uniforms for it (always drawn, so faults do not shift the base
/// traffic). Returns whether the session ends in this interval.
pub(crate) fn plan_interval(
    s: &mut Session,
    t0: i64,
    must_end: bool,
    env: &IntervalEnv<'_>,
    u: &[f64; 16],
    rng_incident: &mut StdRng,
) -> bool {
    let h = env.h;
    let mut ends = must_end;
    let mut until = if ends {
        t0 + 1_000 + (u[0] * (h - 1_000).max(1) as f64) as i64
    } else {
        t0 + h
    };
    let inside = |x: f64, until: i64| t0 + 1 + (x * (until - t0 - 2).max(0) as f64) as i64;
    let mut out: Vec<Planned> = Vec::new();
    let err_at = inside(u[1], until);
    if u[2] < P_ERROR {
        let mut e = Planned::new(err_at, EventType::Error, s.position_ms);
        e.error_code = Some(ERROR_CODES[(u[3] * ERROR_CODES.len() as f64) as usize % 4]);
        out.push(e);
        if u[4] < P_FATAL && err_at + 500 < until {
            ends = true;
            until = err_at + 500;
        }
    }
    let span = until - t0;
    let viewer = env.viewer;
    let mut stalled = 0;
    let incident = env.incident.filter(|i| {
        i.title == s.title && i.region == viewer.region && until >= i.start_ms && until < i.end_ms
    });
    let stall_at = |x: f64, stalled: i64| t0 + 1 + (x * (span - stalled - 2).max(0) as f64) as i64;
    if let Some(i) = incident {
        let r: [f64; 4] = rng_incident.random();
        let jitter = 0.85 + 0.3 * r[0];
        stalled = ((span as f64 * i.stall_fraction * jitter).round() as i64).min(span - 1);
        if r[1] < P_INCIDENT_REBUFFER_EVENTS && stalled > 0 {
            let at = stall_at(r[2], stalled);
            out.push(Planned::new(at, EventType::RebufferStart, s.position_ms));
            out.push(Planned::new(
                at + stalled,
                EventType::RebufferEnd,
                s.position_ms,
            ));
        }
        if r[3] < 0.5 && s.rung > 0 {
            s.rung -= 1;
            let mut b = Planned::new(
                stall_at(r[2], stalled),
                EventType::BitrateChange,
                s.position_ms,
            );
            b.bitrate = Some(BITRATE_LADDER[s.rung]);
            out.push(b);
        }
    } else if u[5] < P_BASE_STALL {
        let mean = env.baseline_stall * h as f64 / P_BASE_STALL;
        stalled = ((mean * (0.3 + 1.4 * u[6])).round() as i64).min(span / 2);
        if u[7] < P_REBUFFER_EVENTS && stalled > 0 {
            let at = stall_at(u[8], stalled);
            out.push(Planned::new(at, EventType::RebufferStart, s.position_ms));
            out.push(Planned::new(
                at + stalled,
                EventType::RebufferEnd,
                s.position_ms,
            ));
        }
    }
    let mut paused = 0;
    if u[9] < P_PAUSE && span - stalled > 4_000 {
        let at = inside(u[10] / 2.0, until);
        paused = (1_000 + (u[10] * ((span - stalled) / 3) as f64) as i64).min(until - at - 1);
        out.push(Planned::new(at, EventType::Pause, s.position_ms));
        out.push(Planned::new(at + paused, EventType::Resume, s.position_ms));
    }
    let mut jump = 0;
    if u[11] < P_SEEK {
        jump = ((u[12] - 0.3) * 600_000.0) as i64;
        let target = (s.position_ms + jump).max(0);
        out.push(Planned::new(inside(u[12], until), EventType::Seek, target));
    }
    if u[13] < P_BITRATE {
        let up = u[14] < 0.6 && s.rung < viewer.max_rung;
        s.rung = if up {
            s.rung + 1
        } else {
            s.rung.saturating_sub(1)
        };
        let mut b = Planned::new(
            inside(u[14], until),
            EventType::BitrateChange,
            s.position_ms,
        );
        b.bitrate = Some(BITRATE_LADDER[s.rung]);
        out.push(b);
    }
    if u[15] < P_SKIP {
        jump += 75_000;
        out.push(Planned::new(
            inside(u[15] * 100.0 % 1.0, until),
            EventType::Skip,
            s.position_ms,
        ));
    } else if u[15] > 1.0 - P_SAVE {
        out.push(Planned::new(
            inside(1.0 - u[15], until),
            EventType::Save,
            s.position_ms,
        ));
    }
    let watched = (span - stalled - paused).max(0);
    s.position_ms = (s.position_ms + watched + jump).clamp(0, env.runtime_ms);
    let kind = if ends {
        EventType::SessionEnd
    } else {
        s.heartbeats_left -= 1;
        EventType::Heartbeat
    };
    let mut last = Planned::new(until, kind, s.position_ms);
    last.watched = Some(watched);
    last.stalled = Some(stalled);
    last.bitrate = Some(BITRATE_LADDER[s.rung]);
    out.sort_by_key(|p| p.at);
    out.retain(|p| p.at < until);
    out.push(last);
    s.pending.extend(out);
    ends
}
