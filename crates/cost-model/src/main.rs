//! `cost-model`: the monthly AWS bill of the playback pipeline, line by line
//! (`make cost`). Every parameter is a flag; `--help` lists them (cli.rs).

mod cli;
mod edge_report;

use clap::Parser;
use cost_model::prices::{self, Status};
use cost_model::{
    estimate, per_billion, Estimate, LambdaUse, Measured, Mode, Params, ACCOUNT_CONCURRENCY, MIB,
    ON_DEMAND_DEFAULT_BYTES_PER_S, ON_DEMAND_DEFAULT_RECORDS_PER_S,
};

fn main() -> anyhow::Result<()> {
    let a = cli::Args::parse();
    let pm = cli::params(&a)?;
    let (m, measured_note) = cli::measured(&a)?;
    let u = estimate(&pm, &m, false);
    let p = estimate(&pm, &m, true);
    print_inputs(&pm, &m, &measured_note, &p);
    print_lines(&pm, &u, &p);
    print_sizing(&pm, &u, &p);
    edge_report::print(&pm, &m);
    if a.prices {
        print_prices();
    }
    Ok(())
}

pub(crate) fn money(x: f64) -> String {
    if x >= 100.0 {
        let s = format!("{x:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("${out}")
    } else if x >= 1.0 {
        format!("${x:.2}")
    } else {
        format!("${x:.3}")
    }
}

fn qty(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if x >= 10.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn lambda_row(name: &str, u: &LambdaUse, e: &Estimate) -> String {
    format!(
        "  {name:<19} {} mode: {:>7.1} events/invocation, {:>7.1} ms at peak; concurrency at peak: {:>5.0} max by the event source, {:>6.1} busy",
        if e.packed { "packed  " } else { "unpacked" },
        u.events_per_invocation_peak,
        u.duration_ms_peak,
        u.esm_concurrency,
        u.busy_concurrency_peak
    )
}

/// Prices, workload and the measured figures the estimate rests on.
fn print_inputs(pm: &Params, m: &Measured, measured_note: &str, p: &Estimate) {
    let verified = prices::TABLE
        .iter()
        .filter(|x| x.status == Status::Verified)
        .count();

    println!("Playback pipeline: monthly AWS list price, {} — prices as of {} ({} of {} prices verified, the rest assumed; see --prices and crates/cost-model/src/prices.rs)", prices::REGION, prices::PRICES_AS_OF, verified, prices::TABLE.len());
    println!(
        "Workload: {:.2} B events/day ({:.1} B/month of {:.0} days), {:.0} B/event, peak {}x for {} h/day, {:.0} M viewers; packed = {:.0} events/record ({:.0} B)",
        pm.events_per_day / 1e9,
        pm.events_per_month() / 1e9,
        cost_model::DAYS_PER_MONTH,
        pm.event_bytes,
        pm.peak_factor,
        pm.peak_hours,
        pm.viewers / 1e6,
        p.events_per_record,
        p.record_bytes
    );
    println!("Measured inputs: {measured_note}");
    println!(
        "  CPU ns/event (x86 bench, x{} for arm64): qoe-alerts {:.0} unpacked / {:.0} packed, session-features {:.0} / {:.0}, firehose-transform {:.0}; feature saves per viewer-batch {:.3}; window writes per shard-window {:.3} (catalogue skew {:.2}); features item {:.0} B; Parquet {:.1} B/row ({:.1} B royalty columns); SRE-queue share {:.1}%",
        pm.arm64_cpu_factor,
        m.qoe_cpu_ns_per_event,
        m.qoe_cpu_ns_per_event_packed,
        m.features_cpu_ns_per_event,
        m.features_cpu_ns_per_event_packed,
        m.transform_cpu_ns_per_event,
        m.feature_writes_per_viewer_batch,
        m.window_writes_per_shard_window,
        m.window_group_skew,
        m.feature_item_bytes,
        m.parquet_bytes_per_row,
        m.royalty_bytes_per_row,
        pm.sre_share.unwrap_or(m.sre_share) * 100.0
    );
    if m.demo_events_per_record > 0.0 {
        println!(
            "  Note: per-viewer packing in the demo scenario (2 s linger, a heartbeat every 10 s) reached only {:.2} events/record in the demo hour; rerun with --events-per-record {:.1} for that case.",
            m.demo_events_per_record, m.demo_events_per_record
        );
    }
    println!();
}

/// The bill side by side (unpacked, packed), the totals per Kinesis mode, and
/// the largest packed lines.
fn print_lines(pm: &Params, u: &Estimate, p: &Estimate) {
    println!(
        "{:<11} {:<74} {:>10} {:>9} {:>11} {:>10} {:>11}",
        "Service", "Line", "unpacked", "", "$/month", "packed", "$/month"
    );
    println!("{}", "-".repeat(142));
    for (lu, lp) in u.lines.iter().zip(&p.lines) {
        let tag = match lu.mode {
            Mode::Both => "",
            Mode::OnDemand => " [OD]",
            Mode::Provisioned => " [PROV]",
        };
        let item = format!("{}{tag}", lu.item);
        println!(
            "{:<11} {:<74} {:>10} {:>9} {:>11} {:>10} {:>11}",
            lu.service,
            item,
            qty(lu.quantity),
            lu.unit,
            money(lu.usd),
            qty(lp.quantity),
            money(lp.usd)
        );
    }
    println!("{}", "-".repeat(142));
    for (label, mode) in [
        (
            "Total, Kinesis on-demand (as deployed: pipeline.json mode ON_DEMAND)",
            Mode::OnDemand,
        ),
        ("Total, Kinesis provisioned for peak", Mode::Provisioned),
    ] {
        let (tu, tp) = (u.total(mode), p.total(mode));
        println!(
            "{:<86} {:>20} {:>22}",
            format!("{label} /month"),
            money(tu),
            money(tp)
        );
        println!(
            "{:<86} {:>20} {:>22}",
            "    per billion events",
            money(per_billion(pm, tu)),
            money(per_billion(pm, tp))
        );
    }
    let best = p.total(Mode::OnDemand).min(p.total(Mode::Provisioned));
    let target = 100.0;
    println!(
        "\nTarget: at most $100 per billion events all-in with packing -> {} ({} per billion, cheaper Kinesis mode).",
        if per_billion(pm, best) <= target { "MET" } else { "NOT MET" },
        money(per_billion(pm, best))
    );
    let mut top: Vec<_> = p
        .lines
        .iter()
        .filter(|l| l.mode != Mode::OnDemand)
        .collect();
    top.sort_by(|x, y| y.usd.total_cmp(&x.usd));
    println!("Largest packed lines (provisioned Kinesis):");
    for l in top.iter().take(5) {
        println!(
            "  {:<11} {:<74} {:>11}  ({} per billion)",
            l.service,
            l.item,
            money(l.usd),
            money(per_billion(pm, l.usd))
        );
    }
}

/// Peak rates against the Kinesis and Lambda limits, and DynamoDB writes.
fn print_sizing(pm: &Params, u: &Estimate, p: &Estimate) {
    println!("\nSizing at peak ({}x):", pm.peak_factor);
    for e in [u, p] {
        println!(
            "  {}: {:.0} records/s, {:.1} MiB/s -> {:.0} provisioned shards; on-demand default stream limits {:.0} records/s, {:.0} MiB/s ({:.0}% / {:.0}% used)",
            if e.packed { "packed  " } else { "unpacked" },
            e.peak_records_per_s,
            e.peak_bytes_per_s / MIB,
            e.shards,
            ON_DEMAND_DEFAULT_RECORDS_PER_S,
            ON_DEMAND_DEFAULT_BYTES_PER_S / MIB,
            e.peak_records_per_s / ON_DEMAND_DEFAULT_RECORDS_PER_S * 100.0,
            e.peak_bytes_per_s / ON_DEMAND_DEFAULT_BYTES_PER_S * 100.0
        );
    }
    for e in [u, p] {
        println!("{}", lambda_row("qoe-alerts", &e.qoe, e));
        println!("{}", lambda_row("session-features", &e.features, e));
        let max: f64 = e.qoe.esm_concurrency
            + e.features.esm_concurrency
            + e.sre.esm_concurrency
            + e.transform.busy_concurrency_peak.ceil();
        println!(
            "  {:<19} {} mode: {:>5.1} busy (Firehose invokes per {} MiB);  sre-buffer max 10; all functions at most {:.0} concurrent ({:.0}% of the default {:.0} account limit)",
            "firehose-transform",
            if e.packed { "packed  " } else { "unpacked" },
            e.transform.busy_concurrency_peak,
            1,
            max,
            max / ACCOUNT_CONCURRENCY * 100.0,
            ACCOUNT_CONCURRENCY
        );
        println!(
            "  DynamoDB writes/day: features {:.0} M ({:.2} per event), windows {:.1} M",
            e.feature_writes_per_day / 1e6,
            e.feature_writes_per_day / pm.events_per_day,
            e.window_writes_per_day / 1e6
        );
    }
}

fn print_prices() {
    println!(
        "\nPrice table ({}, {}):",
        prices::REGION,
        prices::PRICES_AS_OF
    );
    for x in prices::TABLE {
        println!(
            "  {:<28} {:>12} {:<70} {:<8} {}",
            x.key,
            format!("${}", x.usd),
            x.unit,
            match x.status {
                Status::Verified => "verified",
                Status::Assumed => "ASSUMED",
            },
            x.source
        );
    }
}
