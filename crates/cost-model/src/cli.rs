//! The `cost-model` command line: every parameter is a flag (`--help` lists
//! them); this turns the flags into [`Params`] and the measured figures.

use std::path::PathBuf;

use clap::Parser;
use cost_model::{read_measured, Consumer, Measured, Params, WindowDesign};

#[derive(Parser, Debug)]
#[command(
    name = "cost-model",
    about = "Monthly AWS list-price cost of the playback pipeline (us-east-1), packed vs one event per record"
)]
pub struct Args {
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
    /// Share of events sent to the SRE queue (quality events, session starts,
    /// heartbeats); default: measured.
    #[arg(long)]
    sre_share: Option<f64>,
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
    /// Window store design: per-shard-item (as built) or per-group (the first design).
    #[arg(long, default_value = "per-shard-item")]
    window_design: String,
    /// The ingest edge as deployed: function-url, http-api, fargate or
    /// cognito-direct (infra/lib/collector.ts: -c collectorHost / collectorApi).
    #[arg(long, default_value = "function-url")]
    edge_host: String,
    /// Events a player's request carries (players send every ~10 s).
    #[arg(long, default_value_t = 1.5)]
    events_per_request: f64,
    /// The collector Lambda's memory, MB (as deployed: 128).
    #[arg(long, default_value_t = 128.0)]
    collector_memory_mb: f64,
    /// bench/measured.json (from `make bench`).
    #[arg(long, default_value = "bench/measured.json")]
    measured: PathBuf,
    /// Also print every line's unit price and whether it is verified.
    #[arg(long)]
    pub prices: bool,
}

pub fn params(a: &Args) -> anyhow::Result<Params> {
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
        sre_share: a.sre_share,
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
        edge: cost_model::edge::Edge {
            host: a
                .edge_host
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--edge-host: {e}"))?,
            events_per_request: a.events_per_request,
            lambda_memory_mb: a.collector_memory_mb,
            ..d.edge.clone()
        },
        ..d
    })
}

/// The figures of `--measured` (placeholders if the file is missing), with the
/// flags' overrides applied, and the note that says where they came from.
pub fn measured(a: &Args) -> anyhow::Result<(Measured, String)> {
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
    Ok((m, measured_note))
}
