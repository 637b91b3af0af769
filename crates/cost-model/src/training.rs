//! The daily training build (infra/lib/training-build.ts): one Athena UNLOAD of
//! a day's arrivals by viewer bucket, then one Lambda slice per bucket that
//! continues its bucket's stored state of the day before.
//!
//! Measured (`cargo run --release -p offline-features --example slice_speed`,
//! one x86 core, 2026-12-03): `SLICE_US_PER_EVENT` for a slice of 8 passes,
//! `STATE_BYTES_PER_VIEWER` of gzip state and `STATE_US_PER_VIEWER` to decode
//! and encode it, `INPUT_BYTES_PER_EVENT` of UNLOAD Parquet. Assumed: the scan
//! touches `SCAN_BYTES_PER_EVENT` of the canonical table's zstd Parquet per
//! arrival (Iceberg statistics on ingest_time prune other days' files) and a
//! Graviton core runs the slice as fast as the measuring core.

use crate::billing::{DAYS_PER_MONTH, GB, TB};
use crate::estimate::{Bill, Mode};
use crate::params::Params;
use crate::prices::p;

/// infra/lib/training-build.ts TRAINING_BUILD.
pub const BUCKETS: f64 = 100.0;
pub const SLICE_GB: f64 = 10.0;
pub const INPUTS_KEPT_DAYS: f64 = 3.0;
pub const STATE_KEPT_DAYS: f64 = 14.0;
pub const SCAN_BYTES_PER_EVENT: f64 = 60.0;
pub const INPUT_BYTES_PER_EVENT: f64 = 36.9;
pub const SLICE_US_PER_EVENT: f64 = 16.6;
pub const STATE_BYTES_PER_VIEWER: f64 = 346.0;
pub const STATE_US_PER_VIEWER: f64 = 44.0;
/// Start, ~20 polls of wait + get + choice, list, map, finish.
pub const FIXED_TRANSITIONS: f64 = 70.0;
/// Per Map item: the child execution's start, task, end and one retry's worth.
pub const ITEM_TRANSITIONS: f64 = 4.0;

/// Seconds one slice runs: its share of the day's events and of the viewers' state.
pub fn slice_seconds(pm: &Params) -> f64 {
    (pm.events_per_day / BUCKETS * SLICE_US_PER_EVENT + pm.viewers / BUCKETS * STATE_US_PER_VIEWER)
        / 1e6
}

pub(crate) fn lines(pm: &Params, bill: &mut Bill) {
    let runs = DAYS_PER_MONTH;

    let scan_tb = pm.events_per_day * SCAN_BYTES_PER_EVENT * runs / TB;
    bill.line(
        "Athena",
        format!(
            "training build: UNLOAD of a day's arrivals, {SCAN_BYTES_PER_EVENT:.0} B/event scanned = {:.2} TB/run",
            pm.events_per_day * SCAN_BYTES_PER_EVENT / TB
        ),
        scan_tb,
        "TB",
        scan_tb * p("athena.tb"),
        Mode::Both,
    );

    let slice_s = slice_seconds(pm);
    let gb_s = BUCKETS * slice_s * SLICE_GB * runs;
    let requests = (BUCKETS + 3.0) * runs;
    bill.line(
        "Lambda",
        format!(
            "training build: {BUCKETS:.0} slices x {SLICE_GB:.0} GB for {:.0} s each (measured {SLICE_US_PER_EVENT} us/event, {STATE_US_PER_VIEWER} us/viewer of state)",
            slice_s
        ),
        gb_s,
        "GB-s",
        gb_s * p("lambda.arm_gb_s") + requests / 1e6 * p("lambda.request_m"),
        Mode::Both,
    );

    let transitions = (FIXED_TRANSITIONS + ITEM_TRANSITIONS * BUCKETS) * runs;
    bill.line(
        "States",
        format!("training build state machine: {BUCKETS:.0} Map items/run"),
        transitions / 1000.0,
        "k transitions",
        transitions / 1000.0 * p("sfn.transition_k"),
        Mode::Both,
    );

    let state_gb = pm.viewers * STATE_BYTES_PER_VIEWER * STATE_KEPT_DAYS / GB;
    let inputs_gb = pm.events_per_day * INPUT_BYTES_PER_EVENT * INPUTS_KEPT_DAYS / GB;
    bill.line(
        "S3",
        format!(
            "training build: state ({STATE_KEPT_DAYS:.0} days x {STATE_BYTES_PER_VIEWER:.0} B/viewer, {state_gb:.0} GB) + inputs ({INPUTS_KEPT_DAYS:.0} days, {inputs_gb:.0} GB)"
        ),
        state_gb + inputs_gb,
        "GB-month",
        (state_gb + inputs_gb) * p("s3.standard_gb_month"),
        Mode::Both,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{estimate, Measured};

    fn line(pm: &Params, starts: &str) -> (f64, f64, String) {
        let e = estimate(pm, &Measured::default(), true);
        let found: Vec<_> = e
            .lines
            .iter()
            .filter(|l| l.item.starts_with(starts))
            .map(|l| (l.quantity, l.usd, l.item.clone()))
            .collect();
        assert_eq!(found.len(), 1, "{starts}");
        found.into_iter().next().unwrap()
    }

    #[test]
    fn a_slice_fits_the_lambda_timeout_at_2_b_events_and_150_m_viewers() {
        let pm = Params::default();
        assert_eq!((pm.events_per_day, pm.viewers), (2e9, 150e6));
        // 20 M events x 16.6 us + 1.5 M viewers x 44 us = 332 s + 66 s.
        let s = slice_seconds(&pm);
        assert!((s - 398.0).abs() < 1e-6, "{s}");
        assert!(
            s < 900.0 * 0.5,
            "a slice must keep half the timeout as headroom: {s}"
        );
        // Ten times the events would not: the bucket count is the lever, capped at 100.
        let big = Params {
            events_per_day: 2e10,
            ..Params::default()
        };
        assert!(slice_seconds(&big) > 900.0);
    }

    #[test]
    fn the_slices_bill_their_gb_seconds_and_the_unload_its_scan() {
        let pm = Params::default();
        let (gb_s, usd, item) = line(&pm, "training build: 100 slices");
        assert!(item.contains("for 398 s each"), "{item}");
        assert!((gb_s - 100.0 * 398.0 * 10.0 * DAYS_PER_MONTH).abs() < 1e-3);
        let want =
            gb_s * p("lambda.arm_gb_s") + 103.0 * DAYS_PER_MONTH / 1e6 * p("lambda.request_m");
        assert!((usd - want).abs() < 1e-9);
        let (tb, usd, _) = line(&pm, "training build: UNLOAD");
        assert!((tb - 2e9 * 60.0 * DAYS_PER_MONTH / TB).abs() < 1e-9);
        assert!((usd - tb * p("athena.tb")).abs() < 1e-9);
    }

    #[test]
    fn storage_and_transitions_recompute_from_their_inputs() {
        let pm = Params::default();
        let (gb, usd, _) = line(&pm, "training build: state");
        let want = 150e6 * 346.0 * 14.0 / GB + 2e9 * 36.9 * 3.0 / GB;
        assert!((gb - want).abs() < 1e-6);
        assert!((usd - want * p("s3.standard_gb_month")).abs() < 1e-9);
        let (k, usd, _) = line(&pm, "training build state machine");
        assert!((k - (70.0 + 400.0) * DAYS_PER_MONTH / 1000.0).abs() < 1e-9);
        assert!((usd - k * p("sfn.transition_k")).abs() < 1e-12);
    }
}
