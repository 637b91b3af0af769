//! One session's life between two heartbeats: what it plans for the next
//! interval (extras at random instants, then a heartbeat or its end), with
//! the baseline stall, or the incident's when one applies, and what a bad
//! release does to it ([`crate::release`]).

use std::collections::VecDeque;

use playback_domain::EventType;
use rand::rngs::StdRng;
use rand::Rng;

use crate::population::{Viewer, BITRATE_LADDER};
use crate::release::{Effect, ReleaseAt, CRASH_CODE, START_FAILURE_CODE};

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
/// Chance that a start fails on a healthy build (~1 % video-start failures).
pub(crate) const P_START_FAILURE: f64 = 0.01;
/// Mean session length by default (simulated seconds): an episode.
pub const MEAN_SESSION_S: f64 = 1_500.0;
/// Expected events per session per heartbeat interval (heartbeat + extras;
/// start and end amortised by [`events_per_interval`]): turns the target rate
/// into a number of live sessions.
pub const EVENTS_PER_INTERVAL: f64 = 1.0
    + 2.0 * P_BASE_STALL * P_REBUFFER_EVENTS
    + 2.0 * P_PAUSE
    + P_SEEK
    + P_BITRATE
    + P_SKIP
    + P_SAVE
    + P_ERROR;

/// [`EVENTS_PER_INTERVAL`] plus a start and an end every session lifetime.
pub fn events_per_interval(heartbeat_s: u32, mean_session_s: f64) -> f64 {
    EVENTS_PER_INTERVAL + 2.0 * heartbeat_s as f64 / mean_session_s.max(1.0)
}
/// Errors the player recovers from (not fatal in `playback_domain::sre`).
pub(crate) const RECOVERED_CODES: [&str; 2] = ["CDN_TIMEOUT", "SEGMENT_TIMEOUT"];
/// Why a start fails on a healthy build (start failures in `playback_domain::sre`).
pub(crate) const START_FAILURE_CODES: [&str; 3] =
    ["VIDEO_START_FAILED", "DRM_LICENSE_FAILED", "MANIFEST_404"];

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
    /// 1 for a fresh session; n for the viewer's n-th try after failures.
    pub attempt: u32,
    /// Ended by a failure the viewer reacts to by trying again.
    pub failed: bool,
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
    pub release: Option<&'a ReleaseAt>,
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
    rng_release: &mut StdRng,
) -> bool {
    let first = s.seq == 1;
    let effect = env
        .release
        .filter(|r| r.affects(env.viewer, t0))
        .map(|r| r.draw(first, rng_release))
        .unwrap_or_default();
    if first && (effect.start_fails || u[2] > 1.0 - P_START_FAILURE) {
        let code = if effect.start_fails {
            START_FAILURE_CODE
        } else {
            START_FAILURE_CODES[(u[3] * 3.0) as usize % 3]
        };
        plan_start_failure(s, t0, u[1], code);
        return true;
    }
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
    let error = if effect.crash {
        Some((CRASH_CODE, true))
    } else if u[2] < P_ERROR {
        let fatal = u[4] < P_FATAL;
        let code = if fatal {
            CRASH_CODE
        } else {
            RECOVERED_CODES[(u[3] * 2.0) as usize % 2]
        };
        Some((code, fatal))
    } else {
        None
    };
    if let Some((code, fatal)) = error {
        let mut e = Planned::new(err_at, EventType::Error, s.position_ms);
        e.error_code = Some(code);
        out.push(e);
        if fatal && err_at + 500 < until {
            ends = true;
            until = err_at + 500;
            s.failed = effect.crash;
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
    } else if let Effect {
        rebuffer: Some((extra, x)),
        ..
    } = effect
    {
        stalled = extra.min(span / 2);
        if stalled > 0 {
            let at = stall_at(x, stalled);
            out.push(Planned::new(at, EventType::RebufferStart, s.position_ms));
            out.push(Planned::new(
                at + stalled,
                EventType::RebufferEnd,
                s.position_ms,
            ));
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

/// A start that never shows a frame: the error 0.5-2.5 s in, the session's
/// end just after (all of it spent waiting), and the viewer will try again.
fn plan_start_failure(s: &mut Session, t0: i64, x: f64, code: &'static str) {
    let err_at = t0 + 500 + (x * 2_000.0) as i64;
    let mut e = Planned::new(err_at, EventType::Error, s.position_ms);
    e.error_code = Some(code);
    let mut end = Planned::new(err_at + 200, EventType::SessionEnd, s.position_ms);
    end.watched = Some(0);
    end.stalled = Some(err_at + 200 - t0);
    end.bitrate = Some(BITRATE_LADDER[s.rung]);
    s.failed = true;
    s.pending.extend([e, end]);
}
