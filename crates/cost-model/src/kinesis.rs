//! Kinesis Data Streams: the on-demand lines (as deployed) and the
//! provisioned lines (sized for the peak); each total takes one set.

use crate::billing::{round_up, units, DAYS_PER_MONTH, GB, HOURS_PER_MONTH, KB};
use crate::estimate::{Bill, Mode};
use crate::params::Params;
use crate::prices::p;
use crate::sizing::Stream;

pub(crate) fn lines(pm: &Params, s: &Stream, bill: &mut Bill) {
    let (r_day, rec_bytes, shards) = (s.records_per_day, s.record_bytes, s.shards);
    let days = DAYS_PER_MONTH;
    let gb_in_rounded = r_day * round_up(rec_bytes, KB) / GB * days;
    let gb_in = r_day * rec_bytes / GB * days;
    bill.line(
        "Kinesis",
        "on-demand: stream-hours".into(),
        HOURS_PER_MONTH,
        "stream-h",
        HOURS_PER_MONTH * p("kds.od.stream_hour"),
        Mode::OnDemand,
    );
    bill.line(
        "Kinesis",
        "on-demand: data in (records rounded up to 1 KB)".into(),
        gb_in_rounded,
        "GB",
        gb_in_rounded * p("kds.od.ingest_gb"),
        Mode::OnDemand,
    );
    bill.line(
        "Kinesis",
        "on-demand: Firehose reads (shared throughput, 1 KB rounding assumed)".into(),
        gb_in_rounded,
        "GB",
        gb_in_rounded * p("kds.od.retrieval_gb"),
        Mode::OnDemand,
    );
    let efo_gb_od = pm.efo_consumers * gb_in_rounded;
    bill.line(
        "Kinesis",
        format!("on-demand: EFO reads ({} consumers)", pm.efo_consumers),
        efo_gb_od,
        "GB",
        efo_gb_od * p("kds.od.efo_gb"),
        Mode::OnDemand,
    );
    let extra_days = ((pm.retention_hours - 24.0) / 24.0).max(0.0);
    let retained_gb_month = gb_in_rounded / days * extra_days;
    bill.line(
        "Kinesis",
        format!(
            "on-demand: retention {} h (GB-month beyond 24 h)",
            pm.retention_hours
        ),
        retained_gb_month,
        "GB-mo",
        retained_gb_month * p("kds.od.retention_gb_month"),
        Mode::OnDemand,
    );

    let shard_hours = shards * HOURS_PER_MONTH;
    bill.line(
        "Kinesis",
        format!("provisioned: {shards:.0} shards (sized for peak, 24 h)"),
        shard_hours,
        "shard-h",
        shard_hours * p("kds.shard_hour"),
        Mode::Provisioned,
    );
    let put_units = r_day * units(rec_bytes, 25.0 * KB) * days;
    bill.line(
        "Kinesis",
        "provisioned: PUT payload units (25 KB)".into(),
        put_units / 1e6,
        "M units",
        put_units / 1e6 * p("kds.put_unit_m"),
        Mode::Provisioned,
    );
    if pm.retention_hours > 24.0 {
        bill.line(
            "Kinesis",
            format!("provisioned: retention {} h", pm.retention_hours),
            shard_hours,
            "shard-h",
            shard_hours * p("kds.retention_shard_hour"),
            Mode::Provisioned,
        );
    }
    let efo_csh = pm.efo_consumers * shard_hours;
    bill.line(
        "Kinesis",
        "provisioned: EFO consumer-shard-hours".into(),
        efo_csh,
        "c-shard-h",
        efo_csh * p("kds.efo_consumer_shard_hour"),
        Mode::Provisioned,
    );
    let efo_gb = pm.efo_consumers * gb_in;
    bill.line(
        "Kinesis",
        "provisioned: EFO data retrieved".into(),
        efo_gb,
        "GB",
        efo_gb * p("kds.efo_gb"),
        Mode::Provisioned,
    );
}
