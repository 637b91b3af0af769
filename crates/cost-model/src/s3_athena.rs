//! The lake: S3 storage by age tier and requests, and the Athena scans of the
//! royalty close and ad-hoc queries.

use crate::billing::{DAYS_PER_MONTH, GB, MIB, TB};
use crate::estimate::{Bill, Mode};
use crate::measured::Measured;
use crate::params::Params;
use crate::prices::p;
use crate::sizing::Stream;

/// Adds the S3 and Athena lines; `objects` is what Firehose delivers a month.
pub(crate) fn lines(pm: &Params, m: &Measured, s: &Stream, objects: f64, bill: &mut Bill) {
    let e_day = s.events_per_day;
    let days = DAYS_PER_MONTH;

    // ---- S3 -------------------------------------------------------------------------
    let lake_gb_day = e_day * (m.parquet_bytes_per_row + m.event_id_bytes_per_row) / GB;
    let a = pm.lake_age_days;
    let (std_d, ia_d, gir_d) = (
        a.min(30.0),
        (a - 30.0).clamp(0.0, 60.0),
        (a - 90.0).max(0.0),
    );
    bill.line(
        "S3",
        format!("Standard: last {std_d:.0} days of Parquet + ledger"),
        lake_gb_day * std_d,
        "GB-mo",
        lake_gb_day * std_d * p("s3.standard_gb_month"),
        Mode::Both,
    );
    bill.line(
        "S3",
        format!("Standard-IA: days 30-90 ({ia_d:.0} days)"),
        lake_gb_day * ia_d,
        "GB-mo",
        lake_gb_day * ia_d * p("s3.ia_gb_month"),
        Mode::Both,
    );
    bill.line(
        "S3",
        format!("Glacier IR: after 90 days ({gir_d:.0} days at lake age {a:.0} d)"),
        lake_gb_day * gir_d,
        "GB-mo",
        lake_gb_day * gir_d * p("s3.gir_gb_month"),
        Mode::Both,
    );
    let puts = objects + 2.0 * days; // + the daily ledger/report UNLOADs
    let transitions = objects / 1000.0 * (p("s3.transition_ia_k") + p("s3.transition_gir_k"));
    bill.line(
        "S3",
        "PUT requests + lifecycle transitions".into(),
        puts / 1000.0,
        "k req",
        puts / 1000.0 * p("s3.put_k") + transitions,
        Mode::Both,
    );

    // ---- Athena ---------------------------------------------------------------------
    let close_bytes =
        (pm.lookback_days + 1.0 + pm.grace_hours / 24.0) * e_day * m.royalty_bytes_per_row
            + pm.ledger_days * e_day * m.event_id_bytes_per_row
            + e_day * m.event_id_bytes_per_row * 2.0;
    let close_tb = close_bytes.max(10.0 * MIB) / TB * days;
    bill.line(
        "Athena",
        format!(
            "daily royalty close (lookback {} d + {} h grace, ledger {} d)",
            pm.lookback_days, pm.grace_hours, pm.ledger_days
        ),
        close_tb,
        "TB",
        close_tb * p("athena.tb"),
        Mode::Both,
    );
    let adhoc_bytes = pm.adhoc_queries_per_day
        * pm.adhoc_days_per_query
        * e_day
        * m.parquet_bytes_per_row
        * pm.adhoc_row_fraction;
    let adhoc_tb = adhoc_bytes / TB * days;
    bill.line(
        "Athena",
        format!(
            "ad hoc: {} queries/day x {} day(s) x {:.0}% of the row",
            pm.adhoc_queries_per_day,
            pm.adhoc_days_per_query,
            pm.adhoc_row_fraction * 100.0
        ),
        adhoc_tb,
        "TB",
        adhoc_tb * p("athena.tb"),
        Mode::Both,
    );
    let gets = (close_bytes + adhoc_bytes) / (8.0 * MIB) * days; // ~one ranged GET per 8 MiB read
    bill.line(
        "S3",
        "GET requests (Athena reads)".into(),
        gets / 1000.0,
        "k req",
        gets / 1000.0 * p("s3.get_k"),
        Mode::Both,
    );
}
