//! Lambda tumbling windows on Kinesis: windows are aligned to multiples of
//! their width on the records' arrival time; a batch never spans two windows;
//! the state returned by one invocation is handed to the next invocation of
//! the same window; the window's end brings one final invocation
//! (`isFinalInvokeForWindow`), then the next window starts with empty state.

use serde_json::{Map, Value};

/// The window a shard is aggregating.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenWindow {
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: Map<String, Value>,
}

impl OpenWindow {
    /// The window holding a record that arrived at `arrival_ms`.
    pub fn containing(arrival_ms: i64, width_ms: i64) -> Self {
        let start_ms = arrival_ms.div_euclid(width_ms) * width_ms;
        OpenWindow {
            start_ms,
            end_ms: start_ms + width_ms,
            state: Map::new(),
        }
    }
}

/// What the shard knows when it decides whether to invoke.
#[derive(Debug, Clone, Copy)]
pub struct WindowView {
    /// Buffered records that belong to the open window (a prefix of the buffer).
    pub in_window: usize,
    /// Buffered records in all.
    pub buffered: usize,
    /// Most records the next invocation may carry (batch size or bisected size).
    pub limit: usize,
    /// A bisected retry is under way: invoke without waiting.
    pub retrying: bool,
    /// The batching window of the oldest buffered record has elapsed.
    pub batch_ready: bool,
    /// The last read found nothing new on the shard.
    pub caught_up: bool,
    pub now_ms: i64,
    /// Allowance for records that arrived just before the end but are not visible yet.
    pub grace_ms: i64,
    /// Shutting down or the shard is finished: close the window now.
    pub closing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPlan {
    pub count: usize,
    pub is_final: bool,
    pub terminated_early: bool,
}

/// The next invocation for the open window, if one is due.
pub fn plan(w: &OpenWindow, v: WindowView) -> Option<WindowPlan> {
    let ended = v.in_window < v.buffered || (v.caught_up && v.now_ms >= w.end_ms + v.grace_ms);
    let complete = ended || v.closing;
    if complete && v.in_window <= v.limit {
        return Some(WindowPlan {
            count: v.in_window,
            is_final: true,
            terminated_early: !ended && v.now_ms < w.end_ms,
        });
    }
    if v.in_window == 0 {
        return None;
    }
    let due = complete || v.retrying || v.in_window >= v.limit || v.batch_ready;
    due.then(|| WindowPlan {
        count: v.in_window.min(v.limit),
        is_final: false,
        terminated_early: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> WindowView {
        WindowView {
            in_window: 3,
            buffered: 3,
            limit: 10,
            retrying: false,
            batch_ready: false,
            caught_up: false,
            now_ms: 15_000,
            grace_ms: 200,
            closing: false,
        }
    }

    #[test]
    fn windows_align_on_arrival() {
        let w = OpenWindow::containing(25_123, 10_000);
        assert_eq!((w.start_ms, w.end_ms), (20_000, 30_000));
        let w = OpenWindow::containing(-1, 10_000);
        assert_eq!(w.start_ms, -10_000);
    }

    #[test]
    fn waits_then_aggregates_then_finishes() {
        let w = OpenWindow::containing(12_000, 10_000);
        assert_eq!(plan(&w, view()), None);
        let agg = plan(
            &w,
            WindowView {
                batch_ready: true,
                ..view()
            },
        )
        .unwrap();
        assert_eq!((agg.count, agg.is_final), (3, false));
        // A record of the next window is buffered: the window is over.
        let fin = plan(
            &w,
            WindowView {
                buffered: 5,
                ..view()
            },
        )
        .unwrap();
        assert_eq!(
            (fin.count, fin.is_final, fin.terminated_early),
            (3, true, false)
        );
        // Caught up and the wall clock is past the end: final, possibly empty.
        let idle = WindowView {
            in_window: 0,
            buffered: 0,
            caught_up: true,
            now_ms: 20_300,
            ..view()
        };
        assert_eq!(plan(&w, idle).unwrap().count, 0);
        assert!(plan(
            &w,
            WindowView {
                now_ms: 20_100,
                ..idle
            }
        )
        .is_none());
        // Shutdown before the end: final, flagged as terminated early.
        let stop = plan(
            &w,
            WindowView {
                closing: true,
                ..view()
            },
        )
        .unwrap();
        assert!(stop.is_final && stop.terminated_early);
    }

    #[test]
    fn a_long_window_is_split_before_its_final_invocation() {
        let w = OpenWindow::containing(12_000, 10_000);
        let v = WindowView {
            in_window: 25,
            buffered: 30,
            ..view()
        };
        let p = plan(&w, v).unwrap();
        assert_eq!((p.count, p.is_final), (10, false));
        let p = plan(
            &w,
            WindowView {
                in_window: 5,
                buffered: 10,
                ..v
            },
        )
        .unwrap();
        assert_eq!((p.count, p.is_final), (5, true));
    }
}
