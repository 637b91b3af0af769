//! Firehose: ingestion from the stream, Parquet conversion and dynamic
//! partitioning into the lake.

use crate::billing::{round_up, DAYS_PER_MONTH, GB, KB, MIB};
use crate::estimate::{Bill, Mode};
use crate::params::Params;
use crate::prices::p;
use crate::sizing::Stream;

/// Firehose ingestion, tiered per month: first 500 TB, next 1.5 PB, then the rest.
pub fn firehose_ingest_usd(gb_month: f64) -> f64 {
    let t1 = 500.0 * 1024.0;
    let t2 = 1.5 * 1024.0 * 1024.0;
    let a = gb_month.min(t1);
    let b = (gb_month - t1).clamp(0.0, t2);
    let c = (gb_month - t1 - t2).max(0.0);
    a * p("fh.ingest_gb_t1") + b * p("fh.ingest_gb_t2") + c * p("fh.ingest_gb_t3")
}

/// Adds the Firehose lines; returns the objects it delivers a month (S3 PUTs).
pub(crate) fn lines(pm: &Params, s: &Stream, bill: &mut Bill) -> f64 {
    let (e_day, r_day, rec_bytes) = (s.events_per_day, s.records_per_day, s.record_bytes);
    let days = DAYS_PER_MONTH;
    let fh_gb = r_day * round_up(rec_bytes, 5.0 * KB) / GB * days;
    bill.line(
        "Firehose",
        "ingestion from Kinesis (records rounded up to 5 KB, tiered)".into(),
        fh_gb,
        "GB",
        firehose_ingest_usd(fh_gb),
        Mode::Both,
    );
    bill.line(
        "Firehose",
        "format conversion to Parquet (5 KB increments)".into(),
        fh_gb,
        "GB",
        fh_gb * p("fh.conversion_gb"),
        Mode::Both,
    );
    let dp_gb = e_day * pm.event_bytes / GB * days;
    bill.line(
        "Firehose",
        "dynamic partitioning: data (JSON volume)".into(),
        dp_gb,
        "GB",
        dp_gb * p("fh.dp_gb"),
        Mode::Both,
    );
    let objects_day = (86_400.0 / pm.firehose_buffer_s)
        .max(e_day * pm.event_bytes / (pm.firehose_buffer_mb * MIB));
    let objects = objects_day * days;
    bill.line(
        "Firehose",
        "dynamic partitioning: objects delivered".into(),
        objects / 1000.0,
        "k objects",
        objects / 1000.0 * p("fh.dp_objects_k"),
        Mode::Both,
    );
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firehose_tiers() {
        assert!((firehose_ingest_usd(1000.0) - 29.0).abs() < 1e-9);
        let at_600tb = firehose_ingest_usd(600.0 * 1024.0);
        let expect = 500.0 * 1024.0 * 0.029 + 100.0 * 1024.0 * 0.025;
        assert!((at_600tb - expect).abs() < 1e-6);
    }
}
