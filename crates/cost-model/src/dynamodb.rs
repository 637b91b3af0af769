//! DynamoDB (on-demand): stored features, window partials, alerts and SRE
//! signals.

use crate::billing::{units, DAYS_PER_MONTH, GB, KB};
use crate::estimate::{Bill, Mode};
use crate::lambda::Functions;
use crate::measured::Measured;
use crate::params::{Params, WindowDesign};
use crate::prices::p;
use crate::sizing::{Stream, LAMBDA_PAYLOAD_BYTES};
use crate::windows::WindowFlushes;

/// Adds the DynamoDB lines; returns the feature writes per day.
pub(crate) fn lines(
    pm: &Params,
    m: &Measured,
    s: &Stream,
    fns: &Functions,
    windows: &WindowFlushes,
    bill: &mut Bill,
) -> f64 {
    let (k, e_day, r_day, shards) = (s.k, s.events_per_day, s.records_per_day, s.shards);
    let record_json = s.record_json_bytes;
    let days = DAYS_PER_MONTH;
    // Features: one conditional UpdateItem per viewer per batch. A viewer shows up
    // in min(its records per minute, batches per minute) batches a minute.
    let viewer_minutes_per_day = e_day / pm.events_per_viewer_minute;
    let records_per_viewer_minute = pm.events_per_viewer_minute / k;
    let batchers = shards * pm.features.parallelization;
    let eff_batch = pm
        .features
        .batch_size
        .min((LAMBDA_PAYLOAD_BYTES / record_json).floor());
    let mut feature_writes = 0.0;
    for r in pm.regimes() {
        if r.factor <= 0.0 {
            continue;
        }
        let rate = r_day / 86_400.0 * r.factor / batchers;
        let interval = pm.features.batching_window_s.min(eff_batch / rate);
        let batches_per_viewer_minute = records_per_viewer_minute.min(60.0 / interval);
        feature_writes += viewer_minutes_per_day * r.hours / 24.0
            * r.factor
            * batches_per_viewer_minute
            * m.feature_writes_per_viewer_batch;
    }
    let f_wru = feature_writes * units(m.feature_item_bytes, KB) * days;
    bill.line(
        "DynamoDB",
        format!(
            "features: UpdateItem per viewer per batch ({:.2} KB item)",
            m.feature_item_bytes / KB
        ),
        f_wru / 1e6,
        "M WRU",
        f_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    let f_rru = feature_writes * units(m.feature_item_bytes, 4.0 * KB) * days;
    bill.line(
        "DynamoDB",
        "features: BatchGetItem reads (strongly consistent)".into(),
        f_rru / 1e6,
        "M RRU",
        f_rru / 1e6 * p("ddb.rru_m"),
        Mode::Both,
    );
    let w_wru = windows.wru * days;
    let what = match pm.window_design {
        WindowDesign::PerGroup => {
            "windows: UpdateItem per title x region per shard per window (first design)"
        }
        WindowDesign::PerShardItem => {
            "windows: one PutItem per shard per window (groups in one blob)"
        }
    };
    bill.line(
        "DynamoDB",
        what.into(),
        w_wru / 1e6,
        "M WRU",
        w_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    if windows.rru > 0.0 {
        let w_rru = windows.rru * days;
        bill.line(
            "DynamoDB",
            "windows: every flush reads the window's shard items back".into(),
            w_rru / 1e6,
            "M RRU",
            w_rru / 1e6 * p("ddb.rru_m"),
            Mode::Both,
        );
    }
    let a_wru = pm.alerts_per_day * 2.0 * days;
    bill.line(
        "DynamoDB",
        "alerts: Put + notify update (negligible)".into(),
        a_wru / 1e6,
        "M WRU",
        a_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    let s_touch = fns.sre.invocations_per_day * crate::lambda::sre_slices_per_batch(pm) * days;
    bill.line(
        "DynamoDB",
        "SRE signals: UpdateItem (ADD) per slice-minute per batch".into(),
        s_touch / 1e6,
        "M WRU",
        s_touch / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    // Baseline and incidents Queries: each under 4 KB, eventually consistent.
    let s_rru = s_touch * 2.0 * 0.5;
    bill.line(
        "DynamoDB",
        "SRE signals: baseline + incidents Query per slice-minute per batch".into(),
        s_rru / 1e6,
        "M RRU",
        s_rru / 1e6 * p("ddb.rru_m"),
        Mode::Both,
    );
    let storage_gb = pm.viewers * m.feature_item_bytes / GB;
    bill.line(
        "DynamoDB",
        "storage: features of every viewer (TTL 90 d)".into(),
        storage_gb,
        "GB-mo",
        storage_gb * p("ddb.storage_gb_month"),
        Mode::Both,
    );
    feature_writes
}
