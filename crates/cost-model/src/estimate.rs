//! One month's bill: the lines of every service, in the order printed, and
//! their totals per Kinesis capacity mode.

use crate::lambda::{self, LambdaUse};
use crate::measured::Measured;
use crate::params::Params;
use crate::sizing::Stream;
use crate::{
    canonical, dynamodb, edge, firehose, kinesis, long_horizon, s3_athena, sqs_cloudwatch, training,
};

/// Which Kinesis capacity mode a line belongs to (others count in both totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Both,
    OnDemand,
    Provisioned,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub service: &'static str,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd: f64,
    pub mode: Mode,
}

#[derive(Debug, Clone)]
pub struct Estimate {
    pub packed: bool,
    pub events_per_record: f64,
    pub record_bytes: f64,
    pub records_per_day: f64,
    pub peak_records_per_s: f64,
    pub peak_bytes_per_s: f64,
    pub shards: f64,
    pub qoe: LambdaUse,
    pub features: LambdaUse,
    pub transform: LambdaUse,
    pub sre: LambdaUse,
    pub feature_writes_per_day: f64,
    pub window_writes_per_day: f64,
    pub lines: Vec<Line>,
}

impl Estimate {
    pub fn total(&self, mode: Mode) -> f64 {
        self.lines
            .iter()
            .filter(|l| l.mode == Mode::Both || l.mode == mode)
            .map(|l| l.usd)
            .sum()
    }
}

/// The lines as the service modules add them (the printed order).
#[derive(Debug, Default)]
pub(crate) struct Bill {
    pub lines: Vec<Line>,
}

impl Bill {
    pub fn line(
        &mut self,
        service: &'static str,
        item: String,
        quantity: f64,
        unit: &'static str,
        usd: f64,
        mode: Mode,
    ) {
        self.lines.push(Line {
            service,
            item,
            quantity,
            unit,
            usd,
            mode,
        })
    }
}

/// The monthly bill, one event per record or producer-packed.
pub fn estimate(pm: &Params, m: &Measured, packed: bool) -> Estimate {
    let s = Stream::new(pm, packed);
    let mut bill = Bill::default();
    edge::lines(pm, m, &mut bill);
    kinesis::lines(pm, &s, &mut bill);
    // The functions come first: DynamoDB and CloudWatch are billed on what they do.
    let (fns, windows) = lambda::functions(pm, m, &s);
    lambda::lines(&fns, &mut bill);
    let feature_writes = dynamodb::lines(pm, m, &s, &fns, &windows, &mut bill);
    let objects = firehose::lines(pm, &s, &mut bill);
    s3_athena::lines(pm, m, &s, objects, &mut bill);
    canonical::lines(pm, m, &s, &mut bill);
    long_horizon::lines(pm, &mut bill);
    training::lines(pm, &mut bill);
    sqs_cloudwatch::lines(pm, m, &s, &fns, &mut bill);

    Estimate {
        packed,
        events_per_record: s.k,
        record_bytes: s.record_bytes,
        records_per_day: s.records_per_day,
        peak_records_per_s: s.peak_records_per_s,
        peak_bytes_per_s: s.peak_bytes_per_s,
        shards: s.shards,
        qoe: fns.qoe,
        features: fns.features,
        transform: fns.transform,
        sre: fns.sre,
        feature_writes_per_day: feature_writes,
        window_writes_per_day: windows.writes,
        lines: bill.lines,
    }
}

/// Dollars per billion events of a monthly total.
pub fn per_billion(pm: &Params, usd_month: f64) -> f64 {
    usd_month / (pm.events_per_month() / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_cuts_firehose_and_kinesis_record_charges() {
        let pm = Params::default();
        let m = Measured::default();
        let u = estimate(&pm, &m, false);
        let p = estimate(&pm, &m, true);
        let get = |e: &Estimate, needle: &str| {
            e.lines
                .iter()
                .find(|l| l.item.contains(needle))
                .unwrap()
                .usd
        };
        // Unpacked: 2 B x 5 KB/day; packed: 2 B/12 x 5 KB/day.
        let ratio = get(&u, "ingestion from Kinesis") / get(&p, "ingestion from Kinesis");
        assert!((ratio - 12.0).abs() < 1e-6, "{ratio}");
        assert!(get(&u, "PUT payload units") / get(&p, "PUT payload units") > 11.9);
        assert!(p.total(Mode::OnDemand) < u.total(Mode::OnDemand));
    }
}
