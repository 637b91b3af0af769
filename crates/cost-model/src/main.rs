//! `cost-model`: the monthly AWS bill of the playback pipeline, line by line
//! (`make cost`). Every parameter is a flag; `--help` lists them.

use std::path::PathBuf;

use clap::Parser;
use cost_model::prices::{self, Status};
use cost_model::{
    estimate, per_billion, read_measured, Consumer, Estimate, LambdaUse, Measured, Mode, Params,
    WindowDesign, ACCOUNT_CONCURRENCY, MIB, ON_DEMAND_DEFAULT_BYTES_PER_S,
    ON_DEMAND_DEFAULT_RECORDS_PER_S,
};

#[derive(Parser, Debug)]
#[command(
    name = "cost-model",
    about = "Monthly AWS list-price cost of the playback pipeline (us-east-1), packed vs one event per record"
)]
struct Args {
    /// Events per day.
    #[arg(long, default_value_t = 2e9)]
    events_per_day: f64,
    /// Average event size (JSON line), bytes.
    #[arg(long, default_value_t = 400.0)]
    event_bytes: f64,
    /// Peak rate as a multiple of the daily mean ...
    #[arg(long, default_value_t = 5.0)]
    peak_factor: f64,
    /// ... for this many hours a day.
    #[arg(long, default_value_t = 2.0)]
    peak_hours: f64,
    /// Viewers with stored features.
    #[arg(long, default_value_t = 150e6)]
    viewers: f64,
    /// Producer packing: newline-delimited events of one viewer, up to this many bytes.
    #[arg(long, default_value_t = 5000.0)]
    pack_bytes: f64,
    /// Events per packed record (default: as many as fit in --pack-bytes).
    #[arg(long)]
    events_per_record: Option<f64>,
    /// Events a watching viewer sends per minute.
    #[arg(long, default_value_t = 6.0)]
    events_per_viewer_minute: f64,
    /// Share of events that are malformed (poison pills).
    #[arg(long, default_value_t = 0.01)]
    malformed_share: f64,
    /// Share of events that are playback-quality (also sent to SQS); default: measured.
    #[arg(long)]
    quality_share: Option<f64>,
    /// Catalogue size and regions (title x region groups of the QoE windows).
    #[arg(long, default_value_t = 10_000.0)]
    titles: f64,
    #[arg(long, default_value_t = 5.0)]
    regions: f64,
    /// Multiplier on the provisioned shard count (partition-key skew, growth).
    #[arg(long, default_value_t = 1.0)]
    shard_headroom: f64,
    /// Stream retention (infra/pipeline.json: 168 h).
    #[arg(long, default_value_t = 168.0)]
    retention_hours: f64,
    /// Enhanced fan-out consumers (pipeline.json: qoe-alerts and session-features).
    #[arg(long, default_value_t = 2.0)]
    efo_consumers: f64,
    /// DynamoDB round trip seen by the Lambda, ms (billed as Lambda duration).
    #[arg(long, default_value_t = 6.0)]
    ddb_latency_ms: f64,
    /// SQS SendMessageBatch round trip, ms.
    #[arg(long, default_value_t = 10.0)]
    sqs_latency_ms: f64,
    /// Per-invocation runtime overhead, ms.
    #[arg(long, default_value_t = 1.0)]
    invoke_overhead_ms: f64,
    /// Lambda arm64 CPU time relative to the x86 machine the benchmarks ran on.
    #[arg(long, default_value_t = 1.2)]
    arm64_cpu_factor: f64,
    /// Lake age at the month priced (S3 storage tiers accumulate).
    #[arg(long, default_value_t = 365.0)]
    lake_age_days: f64,
    /// Royalty close: days of ledger it reads (LEDGER_DAYS).
    #[arg(long, default_value_t = 35.0)]
    ledger_days: f64,
    /// Ad-hoc Athena: queries a day, days of lake each, share of the row's bytes.
    #[arg(long, default_value_t = 6.0)]
    adhoc_queries_per_day: f64,
    #[arg(long, default_value_t = 1.0)]
    adhoc_days_per_query: f64,
    #[arg(long, default_value_t = 0.5)]
    adhoc_row_fraction: f64,
    /// CloudWatch alarms (infra/lib/monitoring.ts).
    #[arg(long, default_value_t = 19.0)]
    alarms: f64,
    /// EMF custom metrics (metric x dimension combinations).
    #[arg(long, default_value_t = 30.0)]
    custom_metrics: f64,
    /// session-features event source: BatchSize (pipeline.json: 500) ...
    #[arg(long, default_value_t = 500.0)]
    features_batch_size: f64,
    /// ... and MaximumBatchingWindowInSeconds (pipeline.json: 5).
    #[arg(long, default_value_t = 5.0)]
    features_batching_window_s: f64,
    /// qoe-alerts tumbling window, seconds (pipeline.json: 10).
    #[arg(long, default_value_t = 10.0)]
    qoe_tumbling_s: f64,
    /// Override the measured stored-features item size, bytes.
    #[arg(long)]
    feature_item_bytes: Option<f64>,
    /// Override the measured catalogue skew of the window groups (1 = even spread, the upper bound).
    #[arg(long)]
    window_skew: Option<f64>,
    /// Window store design: per-group (as built) or per-shard-item (proposed).
    #[arg(long, default_value = "per-group")]
    window_design: String,
    /// bench/measured.json (from `make bench`).
    #[arg(long, default_value = "bench/measured.json")]
    measured: PathBuf,
    /// Also print every line's unit price and whether it is verified.
    #[arg(long)]
    prices: bool,
}

fn params(a: &Args) -> anyhow::Result<Params> {
    let d = Params::default();
    let window_design = match a.window_design.as_str() {
        "per-group" => WindowDesign::PerGroup,
        "per-shard-item" => WindowDesign::PerShardItem,
        other => anyhow::bail!("--window-design {other:?}: expected per-group or per-shard-item"),
    };
    Ok(Params {
        events_per_day: a.events_per_day,
        event_bytes: a.event_bytes,
        peak_factor: a.peak_factor,
        peak_hours: a.peak_hours,
        viewers: a.viewers,
        pack_bytes: a.pack_bytes,
        events_per_record: a.events_per_record,
        events_per_viewer_minute: a.events_per_viewer_minute,
        malformed_share: a.malformed_share,
        quality_share: a.quality_share,
        titles: a.titles,
        regions: a.regions,
        shard_headroom: a.shard_headroom,
        retention_hours: a.retention_hours,
        efo_consumers: a.efo_consumers,
        ddb_latency_ms: a.ddb_latency_ms,
        sqs_latency_ms: a.sqs_latency_ms,
        invoke_overhead_ms: a.invoke_overhead_ms,
        arm64_cpu_factor: a.arm64_cpu_factor,
        lake_age_days: a.lake_age_days,
        ledger_days: a.ledger_days,
        adhoc_queries_per_day: a.adhoc_queries_per_day,
        adhoc_days_per_query: a.adhoc_days_per_query,
        adhoc_row_fraction: a.adhoc_row_fraction,
        alarms: a.alarms,
        custom_metrics: a.custom_metrics,
        window_design,
        qoe: Consumer {
            tumbling_s: a.qoe_tumbling_s,
            ..d.qoe
        },
        features: Consumer {
            batch_size: a.features_batch_size,
            batching_window_s: a.features_batching_window_s,
            ..d.features
        },
        ..d
    })
}

fn money(x: f64) -> String {
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

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let pm = params(&a)?;
    let (mut m, measured_note) = match std::fs::read_to_string(&a.measured) {
        Ok(t) => (
            read_measured(&t)?,
            format!(
                "{} ({})",
                a.measured.display(),
                read_measured(&t)?.measured_on
            ),
        ),
        Err(_) => (
            Measured::default(),
            format!(
                "{} not found: placeholder figures (run `make bench`)",
                a.measured.display()
            ),
        ),
    };
    if let Some(b) = a.feature_item_bytes {
        m.feature_item_bytes = b;
    }
    if let Some(k) = a.window_skew {
        m.window_group_skew = k;
    }
    let u = estimate(&pm, &m, false);
    let p = estimate(&pm, &m, true);
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
        "  CPU ns/event (x86 bench, x{} for arm64): qoe-alerts {:.0} unpacked / {:.0} packed, session-features {:.0} / {:.0}, firehose-transform {:.0}; feature saves per viewer-batch {:.3}; window flushes per group {:.3} (catalogue skew {:.2}); features item {:.0} B; Parquet {:.1} B/row ({:.1} B royalty columns); quality share {:.1}%",
        pm.arm64_cpu_factor,
        m.qoe_cpu_ns_per_event,
        m.qoe_cpu_ns_per_event_packed,
        m.features_cpu_ns_per_event,
        m.features_cpu_ns_per_event_packed,
        m.transform_cpu_ns_per_event,
        m.feature_writes_per_viewer_batch,
        m.window_writes_per_group,
        m.window_group_skew,
        m.feature_item_bytes,
        m.parquet_bytes_per_row,
        m.royalty_bytes_per_row,
        pm.quality_share.unwrap_or(m.quality_share) * 100.0
    );
    if m.demo_events_per_record > 0.0 {
        println!(
            "  Note: per-viewer packing in the demo scenario (2 s linger, a heartbeat every 10 s) reached only {:.2} events/record in the demo hour; rerun with --events-per-record {:.1} for that case.",
            m.demo_events_per_record, m.demo_events_per_record
        );
    }
    println!();
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
            money(per_billion(&pm, tu)),
            money(per_billion(&pm, tp))
        );
    }
    let best = p.total(Mode::OnDemand).min(p.total(Mode::Provisioned));
    let target = 100.0;
    println!(
        "\nTarget: at most $100 per billion events all-in with packing -> {} ({} per billion, cheaper Kinesis mode).",
        if per_billion(&pm, best) <= target { "MET" } else { "NOT MET" },
        money(per_billion(&pm, best))
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
            money(per_billion(&pm, l.usd))
        );
    }

    println!("\nSizing at peak ({}x):", pm.peak_factor);
    for e in [&u, &p] {
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
    for e in [&u, &p] {
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

    if a.prices {
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
    Ok(())
}
