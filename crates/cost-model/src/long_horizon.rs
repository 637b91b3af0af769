//! The daily long-horizon feature run (functions/long-horizon-features,
//! infra/lib/long-horizon.ts) and the training examples.
//!
//! Assumptions (stated, not measured):
//! - the query reads 30 event days of the canonical table, only the columns
//!   it touches (viewer_id, session_id, title_id, event_time, ingest_time,
//!   position_ms, watched_ms, device_platform): `SCAN_BYTES_PER_ROW` of
//!   zstd Parquet per event; the titles table is negligible;
//! - `ACTIVE_SHARE` of the viewers were active in 30 days (90 M of 150 M):
//!   one UpdateItem each, under 1 KB (1 WRU: the item keeps both writers'
//!   attributes small, long_horizon_store.rs);
//! - the publish Map runs `MAP_CONCURRENCY` invocations of `PUBLISH_GB` GB,
//!   each paced to `WRITES_PER_S` (infra/lib/long-horizon.ts LONG_HORIZON);
//! - a run file holds ~`RUN_BYTES_PER_ROW` per viewer, runs are kept
//!   `RUNS_KEPT_DAYS`; `LABELS_PER_EVENT` of the events are labels (skip,
//!   save, session_end), `TRAINING_BYTES_PER_ROW` each, kept `TRAINING_KEPT_DAYS`.

use crate::billing::{DAYS_PER_MONTH, GB, TB};
use crate::estimate::{Bill, Mode};
use crate::params::Params;
use crate::prices::p;

pub const SCAN_BYTES_PER_ROW: f64 = 40.0;
pub const WINDOW_DAYS: f64 = 30.0;
pub const ACTIVE_SHARE: f64 = 0.6;
pub const MAP_CONCURRENCY: f64 = 40.0;
pub const WRITES_PER_S: f64 = 500.0;
pub const PUBLISH_GB: f64 = 1.0;
/// Rows per Map item (one run file) and the run's fixed transitions
/// (compute, ~40 polls of wait + get + choice, list, finish).
pub const ROWS_PER_SLICE: f64 = 300_000.0;
pub const FIXED_TRANSITIONS: f64 = 130.0;
/// Transitions per Map item (item start, task, end, one retry's worth).
pub const ITEM_TRANSITIONS: f64 = 4.0;
pub const RUN_BYTES_PER_ROW: f64 = 100.0;
pub const RUNS_KEPT_DAYS: f64 = 35.0;
pub const LABELS_PER_EVENT: f64 = 0.02;
pub const TRAINING_BYTES_PER_ROW: f64 = 300.0;
pub const TRAINING_KEPT_DAYS: f64 = 365.0;

pub(crate) fn lines(pm: &Params, bill: &mut Bill) {
    let runs = DAYS_PER_MONTH;
    let active = pm.viewers * ACTIVE_SHARE;

    let scan = WINDOW_DAYS * pm.events_per_day * SCAN_BYTES_PER_ROW;
    let scan_tb = scan * runs / TB;
    // A daily viewer-day rollup would read one day of events plus 30 days of
    // rollup rows (~one per active viewer-day, ~60 B): the comparison in the item.
    let rollup = pm.events_per_day * SCAN_BYTES_PER_ROW + WINDOW_DAYS * active / 3.0 * 60.0;
    bill.line(
        "Athena",
        format!(
            "long-horizon run: {WINDOW_DAYS:.0} days x {SCAN_BYTES_PER_ROW:.0} B/event of touched columns = {:.2} TB/run (a viewer-day rollup: {:.2} TB/run)",
            scan / TB,
            rollup / TB
        ),
        scan_tb,
        "TB",
        scan_tb * p("athena.tb"),
        Mode::Both,
    );

    let wru = active * runs;
    bill.line(
        "DynamoDB",
        format!(
            "long-horizon publish: one UpdateItem (1 WRU) per active viewer, {:.0} M/run",
            active / 1e6
        ),
        wru / 1e6,
        "M WRU",
        wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );

    let wall_s = active / (MAP_CONCURRENCY * WRITES_PER_S);
    let gb_s = wall_s * MAP_CONCURRENCY * PUBLISH_GB * runs;
    let slices = (active / ROWS_PER_SLICE).ceil();
    let requests = (slices + 3.0) * runs;
    bill.line(
        "Lambda",
        format!(
            "long-horizon publish Map: {MAP_CONCURRENCY:.0} x {PUBLISH_GB} GB for {:.0} min/run at {:.0} writes/s",
            wall_s / 60.0,
            MAP_CONCURRENCY * WRITES_PER_S
        ),
        gb_s,
        "GB-s",
        gb_s * p("lambda.arm_gb_s") + requests / 1e6 * p("lambda.request_m"),
        Mode::Both,
    );

    let transitions = (FIXED_TRANSITIONS + ITEM_TRANSITIONS * slices) * runs;
    bill.line(
        "States",
        format!("long-horizon state machine: {slices:.0} Map items/run"),
        transitions / 1000.0,
        "k transitions",
        transitions / 1000.0 * p("sfn.transition_k"),
        Mode::Both,
    );

    let runs_gb = active * RUN_BYTES_PER_ROW * RUNS_KEPT_DAYS / GB;
    let training_gb =
        pm.events_per_day * LABELS_PER_EVENT * TRAINING_BYTES_PER_ROW * TRAINING_KEPT_DAYS / GB;
    bill.line(
        "S3",
        format!(
            "feature storage: long-horizon runs ({RUNS_KEPT_DAYS:.0} days, {runs_gb:.0} GB) + training examples ({TRAINING_KEPT_DAYS:.0} days, {training_gb:.0} GB)"
        ),
        runs_gb + training_gb,
        "GB-month",
        (runs_gb + training_gb) * p("s3.standard_gb_month"),
        Mode::Both,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{estimate, Measured};

    fn line(pm: &Params, starts: &str) -> (f64, f64) {
        let e = estimate(pm, &Measured::default(), true);
        let found: Vec<(f64, f64)> = e
            .lines
            .iter()
            .filter(|l| l.item.starts_with(starts))
            .map(|l| (l.quantity, l.usd))
            .collect();
        assert_eq!(found.len(), 1, "{starts}");
        found[0]
    }

    #[test]
    fn the_scan_is_30_days_of_touched_columns_at_2_b_events() {
        let pm = Params::default();
        assert_eq!((pm.events_per_day, pm.viewers), (2e9, 150e6));
        let (tb, usd) = line(&pm, "long-horizon run");
        let want_tb = 30.0 * 2e9 * 40.0 * DAYS_PER_MONTH / TB;
        assert!((tb - want_tb).abs() < 1e-9);
        assert!((usd - want_tb * 5.0).abs() < 1e-6);
    }

    #[test]
    fn the_publish_is_one_wru_per_active_viewer_per_run() {
        let (mwru, usd) = line(&Params::default(), "long-horizon publish: one UpdateItem");
        assert!((mwru - 90.0 * DAYS_PER_MONTH).abs() < 1e-6);
        assert!((usd - 90.0 * DAYS_PER_MONTH * p("ddb.wru_m")).abs() < 1e-6);
    }

    #[test]
    fn the_map_runs_75_minutes_at_the_budget_and_bills_its_gb_seconds() {
        let pm = Params::default();
        let e = estimate(&pm, &Measured::default(), true);
        let l = e
            .lines
            .iter()
            .find(|l| l.item.starts_with("long-horizon publish Map"))
            .expect("map line");
        assert!(
            l.item.contains("for 75 min/run at 20000 writes/s"),
            "{}",
            l.item
        );
        // 4 500 s x 40 invocations x 1 GB, every day.
        assert!((l.quantity - 4500.0 * 40.0 * DAYS_PER_MONTH).abs() < 1e-6);
        let requests = (300.0 + 3.0) * DAYS_PER_MONTH;
        let want = l.quantity * p("lambda.arm_gb_s") + requests / 1e6 * p("lambda.request_m");
        assert!((l.usd - want).abs() < 1e-9);
    }

    #[test]
    fn transitions_and_storage_recompute_from_their_inputs() {
        let pm = Params::default();
        let (k, usd) = line(&pm, "long-horizon state machine");
        assert!((k - (130.0 + 4.0 * 300.0) * DAYS_PER_MONTH / 1000.0).abs() < 1e-9);
        assert!((usd - k * p("sfn.transition_k")).abs() < 1e-9);
        let (gb, usd) = line(&pm, "feature storage");
        let want = 90e6 * 100.0 * 35.0 / GB + 2e9 * 0.02 * 300.0 * 365.0 / GB;
        assert!((gb - want).abs() < 1e-6);
        assert!((usd - want * p("s3.standard_gb_month")).abs() < 1e-6);
    }
}
