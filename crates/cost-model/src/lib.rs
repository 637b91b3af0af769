//! The playback pipeline's monthly AWS bill at list price (us-east-1), line by
//! line, for one event per Kinesis record and for producer-packed records.
//!
//! Workload parameters come from the command line (defaults: 2 billion
//! events/day of 400 bytes, 5x peak for 2 hours, 150 M viewers); the per-event
//! CPU cost, write amplification and Parquet bytes per row come from
//! bench/measured.json (`make bench`). Topology (batch sizes, windows, memory)
//! mirrors infra/pipeline.json. Prices: [`prices`]. Every formula is here, in
//! plain arithmetic, so a reviewer can check a line by hand.

pub mod prices;

use prices::p;
use serde::Deserialize;

pub const HOURS_PER_MONTH: f64 = 730.0;
pub const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
pub const KB: f64 = 1024.0;
pub const MIB: f64 = 1024.0 * 1024.0;
/// AWS bills GB as 2^30 bytes and TB as 2^40.
pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;
pub const TB: f64 = GB * 1024.0;
/// Lambda gives one full vCPU at 1 769 MB; below that CPU scales with memory.
pub const FULL_VCPU_MB: f64 = 1769.0;
/// Lambda's invocation payload limit (synchronous, event source mappings).
pub const LAMBDA_PAYLOAD_BYTES: f64 = 6.0 * 1000.0 * 1000.0;
/// Per-shard write limits of Kinesis (provisioned, and on-demand per shard).
pub const SHARD_BYTES_PER_S: f64 = MIB;
pub const SHARD_RECORDS_PER_S: f64 = 1000.0;
/// Default write limits of one on-demand stream (raisable on request).
pub const ON_DEMAND_DEFAULT_BYTES_PER_S: f64 = 200.0 * MIB;
pub const ON_DEMAND_DEFAULT_RECORDS_PER_S: f64 = 200_000.0;
/// Default account concurrency of Lambda (raisable).
pub const ACCOUNT_CONCURRENCY: f64 = 1000.0;

/// Rounds `bytes` up to whole units of `unit` bytes (at least one unit).
pub fn round_up(bytes: f64, unit: f64) -> f64 {
    (bytes / unit).ceil().max(1.0) * unit
}

/// Billed units of `bytes` in units of `unit` (at least one).
pub fn units(bytes: f64, unit: f64) -> f64 {
    (bytes / unit).ceil().max(1.0)
}

/// Shards a provisioned stream needs for a write rate (bytes/s and records/s).
pub fn shards_for(bytes_per_s: f64, records_per_s: f64) -> f64 {
    (bytes_per_s / SHARD_BYTES_PER_S)
        .ceil()
        .max((records_per_s / SHARD_RECORDS_PER_S).ceil())
        .max(1.0)
}

/// Expected distinct groups among `n` events spread evenly over `g` groups
/// (an upper bound for a skewed catalogue, where popular titles repeat more).
pub fn expected_distinct(n: f64, g: f64) -> f64 {
    if g <= 0.0 || n <= 0.0 {
        return 0.0;
    }
    g * (1.0 - (-n / g).exp())
}

/// Firehose ingestion, tiered per month: first 500 TB, next 1.5 PB, then the rest.
pub fn firehose_ingest_usd(gb_month: f64) -> f64 {
    let t1 = 500.0 * 1024.0;
    let t2 = 1.5 * 1024.0 * 1024.0;
    let a = gb_month.min(t1);
    let b = (gb_month - t1).clamp(0.0, t2);
    let c = (gb_month - t1 - t2).max(0.0);
    a * p("fh.ingest_gb_t1") + b * p("fh.ingest_gb_t2") + c * p("fh.ingest_gb_t3")
}

/// Mean WRU of the window item's updates while its shard set grows from 1 to `shards` ids.
pub fn window_item_wru(base_bytes: f64, shard_id_bytes: f64, shards: f64) -> f64 {
    let s = shards.max(1.0).round() as u64;
    let total: f64 = (1..=s)
        .map(|j| units(base_bytes + shard_id_bytes * j as f64, KB))
        .sum();
    total / s as f64
}

/// Where qoe-alerts puts a shard's partial windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowDesign {
    /// As built: one UpdateItem per title x region per shard per window.
    PerGroup,
    /// Proposed: one item per shard per window holding all its partials
    /// (WRU by size), read back by one combiner per window.
    PerShardItem,
}

/// One stream consumer as deployed (infra/pipeline.json `consumers`).
#[derive(Debug, Clone, Copy)]
pub struct Consumer {
    pub batch_size: f64,
    pub batching_window_s: f64,
    pub parallelization: f64,
    pub memory_mb: f64,
    /// Tumbling window (qoe-alerts), seconds; 0 = none.
    pub tumbling_s: f64,
}

/// Workload, topology and the assumptions that no benchmark can give.
#[derive(Debug, Clone)]
pub struct Params {
    pub events_per_day: f64,
    pub event_bytes: f64,
    pub peak_factor: f64,
    pub peak_hours: f64,
    pub viewers: f64,
    /// Producer packing: records up to this many bytes, one viewer each.
    pub pack_bytes: f64,
    /// Events per packed record; `None` = as many as fit in `pack_bytes`.
    pub events_per_record: Option<f64>,
    pub partition_key_bytes: f64,
    /// Events a watching viewer sends per minute (heartbeat every 10 s = 6).
    pub events_per_viewer_minute: f64,
    pub malformed_share: f64,
    pub quality_share: Option<f64>,
    pub titles: f64,
    pub regions: f64,
    pub shard_headroom: f64,
    pub retention_hours: f64,
    pub efo_consumers: f64,
    pub qoe: Consumer,
    pub features: Consumer,
    pub transform_memory_mb: f64,
    pub transform_buffer_mb: f64,
    pub sre_memory_mb: f64,
    pub sre_batch: f64,
    pub sre_cpu_ns_per_message: f64,
    pub sre_updates_per_batch: f64,
    pub firehose_buffer_mb: f64,
    pub firehose_buffer_s: f64,
    pub ddb_latency_ms: f64,
    pub sqs_latency_ms: f64,
    pub invoke_overhead_ms: f64,
    /// Lambda arm64 (Graviton) CPU time relative to the x86 machine the bench ran on.
    pub arm64_cpu_factor: f64,
    pub write_concurrency: f64,
    /// qoe-alerts window flushes in flight (FLUSH_CONCURRENCY).
    pub flush_concurrency: f64,
    /// How qoe-alerts stores a shard's window partials (see [`WindowDesign`]).
    pub window_design: WindowDesign,
    /// Bytes per title x region partial inside a per-shard item.
    pub window_group_bytes: f64,
    pub window_item_base_bytes: f64,
    pub shard_id_bytes: f64,
    pub alerts_per_day: f64,
    pub lookback_days: f64,
    pub grace_hours: f64,
    pub ledger_days: f64,
    pub lake_age_days: f64,
    pub adhoc_queries_per_day: f64,
    pub adhoc_days_per_query: f64,
    pub adhoc_row_fraction: f64,
    pub lambda_record_overhead_bytes: f64,
    pub alarms: f64,
    pub dashboards: f64,
    pub custom_metrics: f64,
    pub log_retention_days: f64,
    pub kms_keys: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            events_per_day: 2e9,
            event_bytes: 400.0,
            peak_factor: 5.0,
            peak_hours: 2.0,
            viewers: 150e6,
            pack_bytes: 5000.0,
            events_per_record: None,
            partition_key_bytes: 7.0,
            events_per_viewer_minute: 6.0,
            malformed_share: 0.01,
            quality_share: None,
            titles: 10_000.0,
            regions: 5.0,
            shard_headroom: 1.0,
            retention_hours: 168.0,
            efo_consumers: 2.0,
            qoe: Consumer {
                batch_size: 1000.0,
                batching_window_s: 1.0,
                parallelization: 1.0,
                memory_mb: 512.0,
                tumbling_s: 10.0,
            },
            features: Consumer {
                batch_size: 500.0,
                batching_window_s: 5.0,
                parallelization: 2.0,
                memory_mb: 512.0,
                tumbling_s: 0.0,
            },
            transform_memory_mb: 256.0,
            transform_buffer_mb: 1.0,
            sre_memory_mb: 256.0,
            sre_batch: 100.0,
            sre_cpu_ns_per_message: 3000.0,
            sre_updates_per_batch: 10.0,
            firehose_buffer_mb: 64.0,
            firehose_buffer_s: 300.0,
            ddb_latency_ms: 6.0,
            sqs_latency_ms: 10.0,
            invoke_overhead_ms: 1.0,
            arm64_cpu_factor: 1.2,
            write_concurrency: 16.0,
            flush_concurrency: 32.0,
            window_design: WindowDesign::PerGroup,
            window_group_bytes: 48.0,
            window_item_base_bytes: 250.0,
            shard_id_bytes: 21.0,
            alerts_per_day: 100.0,
            lookback_days: 1.0,
            grace_hours: 1.0,
            ledger_days: 35.0,
            lake_age_days: 365.0,
            adhoc_queries_per_day: 6.0,
            adhoc_days_per_query: 1.0,
            adhoc_row_fraction: 0.5,
            lambda_record_overhead_bytes: 450.0,
            alarms: 19.0,
            dashboards: 1.0,
            custom_metrics: 30.0,
            log_retention_days: 30.0,
            kms_keys: 1.0,
        }
    }
}

/// Figures measured by `make bench` (bench/measured.json, `cost_inputs`).
/// A missing field keeps its default, and is reported as not measured.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Measured {
    pub measured_on: String,
    pub qoe_cpu_ns_per_event: f64,
    pub features_cpu_ns_per_event: f64,
    pub qoe_cpu_ns_per_event_packed: f64,
    pub features_cpu_ns_per_event_packed: f64,
    pub transform_cpu_ns_per_event: f64,
    pub quality_share: f64,
    pub feature_writes_per_viewer_batch: f64,
    pub window_writes_per_group: f64,
    /// Distinct title x region groups per shard-window measured on the load
    /// generator's Zipf-like catalogue, over the even-spread bound
    /// [`expected_distinct`] (1.0 = no skew).
    pub window_group_skew: f64,
    pub feature_item_bytes: f64,
    pub demo_events_per_record: f64,
    pub parquet_bytes_per_row: f64,
    pub royalty_bytes_per_row: f64,
    pub event_id_bytes_per_row: f64,
}

impl Default for Measured {
    /// Placeholders used only without bench/measured.json (printed as such).
    fn default() -> Self {
        Measured {
            measured_on: "not measured (defaults)".into(),
            qoe_cpu_ns_per_event: 1500.0,
            features_cpu_ns_per_event: 3000.0,
            qoe_cpu_ns_per_event_packed: 1000.0,
            features_cpu_ns_per_event_packed: 2000.0,
            transform_cpu_ns_per_event: 2000.0,
            quality_share: 0.1,
            feature_writes_per_viewer_batch: 1.0,
            window_writes_per_group: 1.0,
            window_group_skew: 1.0,
            feature_item_bytes: 1500.0,
            demo_events_per_record: 0.0,
            parquet_bytes_per_row: 60.0,
            royalty_bytes_per_row: 40.0,
            event_id_bytes_per_row: 15.0,
        }
    }
}

#[derive(Debug, Deserialize)]
struct MeasuredFile {
    cost_inputs: Measured,
}

/// Reads `cost_inputs` of bench/measured.json.
pub fn read_measured(text: &str) -> Result<Measured, serde_json::Error> {
    let m: MeasuredFile = serde_json::from_str(text)?;
    let mut m = m.cost_inputs;
    // A zero means the bench could not measure it: fall back to the default.
    let d = Measured::default();
    let fix = |v: &mut f64, dv: f64| {
        if !(v.is_finite() && *v > 0.0) {
            *v = dv;
        }
    };
    fix(&mut m.qoe_cpu_ns_per_event, d.qoe_cpu_ns_per_event);
    fix(
        &mut m.features_cpu_ns_per_event,
        d.features_cpu_ns_per_event,
    );
    fix(
        &mut m.qoe_cpu_ns_per_event_packed,
        d.qoe_cpu_ns_per_event_packed,
    );
    fix(
        &mut m.features_cpu_ns_per_event_packed,
        d.features_cpu_ns_per_event_packed,
    );
    fix(
        &mut m.transform_cpu_ns_per_event,
        d.transform_cpu_ns_per_event,
    );
    fix(&mut m.quality_share, d.quality_share);
    fix(
        &mut m.feature_writes_per_viewer_batch,
        d.feature_writes_per_viewer_batch,
    );
    fix(&mut m.window_writes_per_group, d.window_writes_per_group);
    fix(&mut m.window_group_skew, d.window_group_skew);
    fix(&mut m.feature_item_bytes, d.feature_item_bytes);
    fix(&mut m.parquet_bytes_per_row, d.parquet_bytes_per_row);
    fix(&mut m.royalty_bytes_per_row, d.royalty_bytes_per_row);
    fix(&mut m.event_id_bytes_per_row, d.event_id_bytes_per_row);
    Ok(m)
}

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

/// A time-of-day regime: `hours` per day at `factor` x the mean rate.
#[derive(Debug, Clone, Copy)]
pub struct Regime {
    pub hours: f64,
    pub factor: f64,
}

/// Lambda figures of one function.
#[derive(Debug, Clone, Default)]
pub struct LambdaUse {
    pub invocations_per_day: f64,
    pub gb_s_per_day: f64,
    pub events_per_invocation_peak: f64,
    pub duration_ms_peak: f64,
    /// Max concurrency the event source allows (shards x parallelization).
    pub esm_concurrency: f64,
    /// Invocations in flight at peak (invocations/s x duration).
    pub busy_concurrency_peak: f64,
    pub log_bytes_per_day: f64,
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

impl Params {
    pub fn regimes(&self) -> Vec<Regime> {
        let off_hours = 24.0 - self.peak_hours;
        let off = if off_hours > 0.0 {
            ((24.0 - self.peak_factor * self.peak_hours) / off_hours).max(0.0)
        } else {
            0.0
        };
        vec![
            Regime {
                hours: self.peak_hours,
                factor: self.peak_factor,
            },
            Regime {
                hours: off_hours,
                factor: off,
            },
        ]
    }

    pub fn packed_events_per_record(&self) -> f64 {
        self.events_per_record
            .unwrap_or_else(|| ((self.pack_bytes + 1.0) / (self.event_bytes + 1.0)).floor())
            .max(1.0)
    }

    pub fn events_per_month(&self) -> f64 {
        self.events_per_day * DAYS_PER_MONTH
    }
}

/// Lambda on a Kinesis event source mapping: invocations, duration, GB-s.
/// `io_ms(records, events)` gives the waits of one invocation (stores, queues).
#[allow(clippy::too_many_arguments)]
fn stream_lambda(
    pm: &Params,
    c: Consumer,
    shards: f64,
    records_per_day: f64,
    events_per_record: f64,
    record_json_bytes: f64,
    cpu_ns_per_event: f64,
    io_ms: &dyn Fn(f64, f64) -> f64,
    log_bytes: &dyn Fn(f64) -> f64,
) -> LambdaUse {
    let batchers = shards * c.parallelization;
    let eff_batch = c
        .batch_size
        .min((LAMBDA_PAYLOAD_BYTES / record_json_bytes).floor())
        .max(1.0);
    let share = (c.memory_mb / FULL_VCPU_MB).min(1.0);
    let mut u = LambdaUse {
        esm_concurrency: batchers,
        ..Default::default()
    };
    for (i, r) in pm.regimes().into_iter().enumerate() {
        if r.hours <= 0.0 || r.factor <= 0.0 {
            continue;
        }
        let rate = records_per_day / 86_400.0 * r.factor / batchers;
        let mut interval = c.batching_window_s.min(eff_batch / rate);
        let mut finals_per_s = 0.0;
        if c.tumbling_s > 0.0 {
            interval = interval.min(c.tumbling_s);
            finals_per_s = 1.0 / c.tumbling_s;
        }
        let inv_per_s = 1.0 / interval + finals_per_s;
        let records = rate / inv_per_s;
        let events = records * events_per_record;
        let cpu_ms = events * cpu_ns_per_event * pm.arm64_cpu_factor / 1e6 / share;
        let dur_ms = cpu_ms + io_ms(records, events) + pm.invoke_overhead_ms;
        let inv = inv_per_s * batchers * r.hours * 3600.0;
        u.invocations_per_day += inv;
        u.gb_s_per_day += inv * dur_ms / 1000.0 * c.memory_mb / 1024.0;
        u.log_bytes_per_day += inv * log_bytes(events);
        if i == 0 {
            u.events_per_invocation_peak = events;
            u.duration_ms_peak = dur_ms;
            u.busy_concurrency_peak = inv_per_s * batchers * dur_ms / 1000.0;
        }
    }
    u
}

/// Bytes of CloudWatch Logs per invocation: START/END/REPORT platform lines.
pub const PLATFORM_LOG_BYTES: f64 = 430.0;
/// One EMF document (PoisonPills, or one Region's QoE metrics).
pub const EMF_LINE_BYTES: f64 = 420.0;

pub fn estimate(pm: &Params, m: &Measured, packed: bool) -> Estimate {
    let k = if packed {
        pm.packed_events_per_record()
    } else {
        1.0
    };
    let e_day = pm.events_per_day;
    let rec_bytes = k * pm.event_bytes + (k - 1.0) + pm.partition_key_bytes;
    let r_day = e_day / k;
    let days = DAYS_PER_MONTH;
    let peak_rps = r_day / 86_400.0 * pm.peak_factor;
    let peak_bps = peak_rps * rec_bytes;
    let shards = (shards_for(peak_bps, peak_rps) * pm.shard_headroom).ceil();
    let mut lines = Vec::new();
    let mut line = |service, item: String, quantity: f64, unit, usd: f64, mode| {
        lines.push(Line {
            service,
            item,
            quantity,
            unit,
            usd,
            mode,
        })
    };

    // ---- Kinesis Data Streams -------------------------------------------------
    let gb_in_rounded = r_day * round_up(rec_bytes, KB) / GB * days;
    let gb_in = r_day * rec_bytes / GB * days;
    line(
        "Kinesis",
        "on-demand: stream-hours".into(),
        HOURS_PER_MONTH,
        "stream-h",
        HOURS_PER_MONTH * p("kds.od.stream_hour"),
        Mode::OnDemand,
    );
    line(
        "Kinesis",
        "on-demand: data in (records rounded up to 1 KB)".into(),
        gb_in_rounded,
        "GB",
        gb_in_rounded * p("kds.od.ingest_gb"),
        Mode::OnDemand,
    );
    line(
        "Kinesis",
        "on-demand: Firehose reads (shared throughput, 1 KB rounding assumed)".into(),
        gb_in_rounded,
        "GB",
        gb_in_rounded * p("kds.od.retrieval_gb"),
        Mode::OnDemand,
    );
    let efo_gb_od = pm.efo_consumers * gb_in_rounded;
    line(
        "Kinesis",
        format!("on-demand: EFO reads ({} consumers)", pm.efo_consumers),
        efo_gb_od,
        "GB",
        efo_gb_od * p("kds.od.efo_gb"),
        Mode::OnDemand,
    );
    let extra_days = ((pm.retention_hours - 24.0) / 24.0).max(0.0);
    let retained_gb_month = gb_in_rounded / days * extra_days;
    line(
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
    line(
        "Kinesis",
        format!("provisioned: {shards:.0} shards (sized for peak, 24 h)"),
        shard_hours,
        "shard-h",
        shard_hours * p("kds.shard_hour"),
        Mode::Provisioned,
    );
    let put_units = r_day * units(rec_bytes, 25.0 * KB) * days;
    line(
        "Kinesis",
        "provisioned: PUT payload units (25 KB)".into(),
        put_units / 1e6,
        "M units",
        put_units / 1e6 * p("kds.put_unit_m"),
        Mode::Provisioned,
    );
    if pm.retention_hours > 24.0 {
        line(
            "Kinesis",
            format!("provisioned: retention {} h", pm.retention_hours),
            shard_hours,
            "shard-h",
            shard_hours * p("kds.retention_shard_hour"),
            Mode::Provisioned,
        );
    }
    let efo_csh = pm.efo_consumers * shard_hours;
    line(
        "Kinesis",
        "provisioned: EFO consumer-shard-hours".into(),
        efo_csh,
        "c-shard-h",
        efo_csh * p("kds.efo_consumer_shard_hour"),
        Mode::Provisioned,
    );
    let efo_gb = pm.efo_consumers * gb_in;
    line(
        "Kinesis",
        "provisioned: EFO data retrieved".into(),
        efo_gb,
        "GB",
        efo_gb * p("kds.efo_gb"),
        Mode::Provisioned,
    );

    // ---- Lambda ------------------------------------------------------------------
    let record_json = rec_bytes * 4.0 / 3.0 + pm.lambda_record_overhead_bytes;
    let (qoe_ns, feat_ns) = if packed {
        (
            m.qoe_cpu_ns_per_event_packed,
            m.features_cpu_ns_per_event_packed,
        )
    } else {
        (m.qoe_cpu_ns_per_event, m.features_cpu_ns_per_event)
    };
    let lat = pm.ddb_latency_ms;
    let sqs_calls = |dead: f64| {
        if dead < 1.0 {
            dead
        } else {
            (dead / 10.0).ceil()
        }
    };
    let malformed = pm.malformed_share;
    let qoe_io = |_records: f64, events: f64| sqs_calls(events * malformed) * pm.sqs_latency_ms;
    let qoe_logs =
        |events: f64| PLATFORM_LOG_BYTES + (events * malformed).min(1.0) * EMF_LINE_BYTES;
    let mut qoe = stream_lambda(
        pm,
        pm.qoe,
        shards,
        r_day,
        k,
        record_json,
        qoe_ns,
        &qoe_io,
        &qoe_logs,
    );
    // Window flushes: one UpdateItem per title x region seen by the shard in the
    // window (`flush_concurrency` in flight), on the final invocation; plus
    // their EMF lines.
    let groups = pm.titles * pm.regions;
    let windows_per_day = 86_400.0 / pm.qoe.tumbling_s;
    let mut window_writes = 0.0;
    let mut window_wru = 0.0;
    let mut window_rru = 0.0;
    for (i, r) in pm.regimes().into_iter().enumerate() {
        let events_per_shard_window = e_day / 86_400.0 * r.factor / shards * pm.qoe.tumbling_s;
        let g = expected_distinct(events_per_shard_window, groups)
            * m.window_group_skew.min(1.0)
            * m.window_writes_per_group;
        let share = r.hours / 24.0;
        let shard_windows = shards * windows_per_day * share;
        let flush_ms = match pm.window_design {
            WindowDesign::PerGroup => {
                let writes = shard_windows * g;
                window_writes += writes;
                let shards_in_group = shards * (1.0 - (-events_per_shard_window / groups).exp());
                window_wru += writes
                    * window_item_wru(
                        pm.window_item_base_bytes,
                        pm.shard_id_bytes,
                        shards_in_group,
                    );
                (g / pm.flush_concurrency).ceil() * lat
            }
            WindowDesign::PerShardItem => {
                let item = pm.window_item_base_bytes + g * pm.window_group_bytes;
                window_writes += shard_windows;
                window_wru += shard_windows * units(item, KB);
                // One combiner per window reads every shard's item (strongly consistent).
                window_rru += shard_windows * units(item, 4.0 * KB);
                lat
            }
        };
        qoe.gb_s_per_day += shard_windows * flush_ms / 1000.0 * pm.qoe.memory_mb / 1024.0;
        qoe.log_bytes_per_day += shard_windows * pm.regions * EMF_LINE_BYTES;
        if i == 0 {
            qoe.busy_concurrency_peak += shards / pm.qoe.tumbling_s * flush_ms / 1000.0;
        }
    }
    let wc = pm.write_concurrency;
    let feat_io = |records: f64, _events: f64| {
        let viewers = records; // a record carries one viewer
        ((viewers / 100.0).ceil() + (viewers / wc).ceil()) * lat
            + sqs_calls(records * k * malformed) * pm.sqs_latency_ms
    };
    let feat_logs =
        |events: f64| PLATFORM_LOG_BYTES + 300.0 + (events * malformed).min(1.0) * EMF_LINE_BYTES;
    let features = stream_lambda(
        pm,
        pm.features,
        shards,
        r_day,
        k,
        record_json,
        feat_ns,
        &feat_io,
        &feat_logs,
    );

    // firehose-transform: Firehose de-aggregates first, so it sees one event per
    // record whatever the packing; invoked per `transform_buffer_mb` of input.
    let per_inv = (pm.transform_buffer_mb * MIB / pm.event_bytes).floor();
    let t_share = (pm.transform_memory_mb / FULL_VCPU_MB).min(1.0);
    let t_ms = per_inv * m.transform_cpu_ns_per_event * pm.arm64_cpu_factor / 1e6 / t_share
        + pm.invoke_overhead_ms;
    let t_inv = e_day / per_inv;
    let transform = LambdaUse {
        invocations_per_day: t_inv,
        gb_s_per_day: t_inv * t_ms / 1000.0 * pm.transform_memory_mb / 1024.0,
        events_per_invocation_peak: per_inv,
        duration_ms_peak: t_ms,
        esm_concurrency: 0.0,
        busy_concurrency_peak: t_inv / 86_400.0 * pm.peak_factor * t_ms / 1000.0,
        log_bytes_per_day: t_inv * PLATFORM_LOG_BYTES + e_day * malformed * 300.0,
    };
    // sre-buffer: SQS batches of `sre_batch` quality messages.
    let quality = pm.quality_share.unwrap_or(m.quality_share);
    let q_day = e_day * quality;
    let s_inv = q_day / pm.sre_batch;
    let s_share = (pm.sre_memory_mb / FULL_VCPU_MB).min(1.0);
    let s_ms = pm.sre_batch * pm.sre_cpu_ns_per_message * pm.arm64_cpu_factor / 1e6 / s_share
        + pm.sre_updates_per_batch * lat
        + pm.invoke_overhead_ms;
    let sre = LambdaUse {
        invocations_per_day: s_inv,
        gb_s_per_day: s_inv * s_ms / 1000.0 * pm.sre_memory_mb / 1024.0,
        events_per_invocation_peak: pm.sre_batch,
        duration_ms_peak: s_ms,
        esm_concurrency: 10.0,
        busy_concurrency_peak: s_inv / 86_400.0 * pm.peak_factor * s_ms / 1000.0,
        log_bytes_per_day: s_inv * (PLATFORM_LOG_BYTES + 300.0),
    };
    for (name, u) in [
        ("qoe-alerts", &qoe),
        ("session-features", &features),
        ("firehose-transform", &transform),
        ("sre-buffer", &sre),
    ] {
        let gbs = u.gb_s_per_day * days;
        line(
            "Lambda",
            format!("{name}: compute (arm64)"),
            gbs,
            "GB-s",
            gbs * p("lambda.arm_gb_s"),
            Mode::Both,
        );
    }
    let requests = (qoe.invocations_per_day
        + features.invocations_per_day
        + transform.invocations_per_day
        + sre.invocations_per_day)
        * days;
    line(
        "Lambda",
        "requests (all four functions)".into(),
        requests / 1e6,
        "M req",
        requests / 1e6 * p("lambda.request_m"),
        Mode::Both,
    );

    // ---- DynamoDB (on-demand) ----------------------------------------------------
    // Features: one conditional PutItem per viewer per batch. A viewer shows up
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
    line(
        "DynamoDB",
        format!(
            "features: PutItem per viewer per batch ({:.2} KB item)",
            m.feature_item_bytes / KB
        ),
        f_wru / 1e6,
        "M WRU",
        f_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    let f_rru = feature_writes * units(m.feature_item_bytes, 4.0 * KB) * days;
    line(
        "DynamoDB",
        "features: BatchGetItem reads (strongly consistent)".into(),
        f_rru / 1e6,
        "M RRU",
        f_rru / 1e6 * p("ddb.rru_m"),
        Mode::Both,
    );
    let w_wru = window_wru * days;
    let what = match pm.window_design {
        WindowDesign::PerGroup => "windows: UpdateItem per title x region per shard per window",
        WindowDesign::PerShardItem => "windows: one item per shard per window (proposed)",
    };
    line(
        "DynamoDB",
        what.into(),
        w_wru / 1e6,
        "M WRU",
        w_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    if window_rru > 0.0 {
        let w_rru = window_rru * days;
        line(
            "DynamoDB",
            "windows: combiner reads the shard items".into(),
            w_rru / 1e6,
            "M RRU",
            w_rru / 1e6 * p("ddb.rru_m"),
            Mode::Both,
        );
    }
    let a_wru = pm.alerts_per_day * 2.0 * days;
    line(
        "DynamoDB",
        "alerts: Put + notify update (negligible)".into(),
        a_wru / 1e6,
        "M WRU",
        a_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    let s_wru = s_inv * pm.sre_updates_per_batch * days;
    line(
        "DynamoDB",
        "SRE signals: UpdateItem per minute bucket per batch".into(),
        s_wru / 1e6,
        "M WRU",
        s_wru / 1e6 * p("ddb.wru_m"),
        Mode::Both,
    );
    let storage_gb = pm.viewers * m.feature_item_bytes / GB;
    line(
        "DynamoDB",
        "storage: features of every viewer (TTL 90 d)".into(),
        storage_gb,
        "GB-mo",
        storage_gb * p("ddb.storage_gb_month"),
        Mode::Both,
    );

    // ---- Firehose -------------------------------------------------------------------
    let fh_gb = r_day * round_up(rec_bytes, 5.0 * KB) / GB * days;
    line(
        "Firehose",
        "ingestion from Kinesis (records rounded up to 5 KB, tiered)".into(),
        fh_gb,
        "GB",
        firehose_ingest_usd(fh_gb),
        Mode::Both,
    );
    line(
        "Firehose",
        "format conversion to Parquet (5 KB increments)".into(),
        fh_gb,
        "GB",
        fh_gb * p("fh.conversion_gb"),
        Mode::Both,
    );
    let dp_gb = e_day * pm.event_bytes / GB * days;
    line(
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
    line(
        "Firehose",
        "dynamic partitioning: objects delivered".into(),
        objects / 1000.0,
        "k objects",
        objects / 1000.0 * p("fh.dp_objects_k"),
        Mode::Both,
    );

    // ---- S3 -------------------------------------------------------------------------
    let lake_gb_day = e_day * (m.parquet_bytes_per_row + m.event_id_bytes_per_row) / GB;
    let a = pm.lake_age_days;
    let (std_d, ia_d, gir_d) = (
        a.min(30.0),
        (a - 30.0).clamp(0.0, 60.0),
        (a - 90.0).max(0.0),
    );
    line(
        "S3",
        format!("Standard: last {std_d:.0} days of Parquet + ledger"),
        lake_gb_day * std_d,
        "GB-mo",
        lake_gb_day * std_d * p("s3.standard_gb_month"),
        Mode::Both,
    );
    line(
        "S3",
        format!("Standard-IA: days 30-90 ({ia_d:.0} days)"),
        lake_gb_day * ia_d,
        "GB-mo",
        lake_gb_day * ia_d * p("s3.ia_gb_month"),
        Mode::Both,
    );
    line(
        "S3",
        format!("Glacier IR: after 90 days ({gir_d:.0} days at lake age {a:.0} d)"),
        lake_gb_day * gir_d,
        "GB-mo",
        lake_gb_day * gir_d * p("s3.gir_gb_month"),
        Mode::Both,
    );
    let puts = objects + 2.0 * days; // + the daily ledger/report UNLOADs
    let transitions = objects / 1000.0 * (p("s3.transition_ia_k") + p("s3.transition_gir_k"));
    line(
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
    line(
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
    line(
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
    line(
        "S3",
        "GET requests (Athena reads)".into(),
        gets / 1000.0,
        "k req",
        gets / 1000.0 * p("s3.get_k"),
        Mode::Both,
    );

    // ---- SQS ------------------------------------------------------------------------
    // Players SendMessageBatch 10; the Lambda poller receives and deletes 10 at a time.
    let sqs_req = (q_day * 3.0 / 10.0 + 21_600.0) * days;
    line(
        "SQS",
        format!(
            "quality queue ({:.1}% of events): send + receive + delete, batches of 10",
            quality * 100.0
        ),
        sqs_req / 1e6,
        "M req",
        sqs_req / 1e6 * p("sqs.request_m"),
        Mode::Both,
    );
    let dlq_req = e_day * malformed * 3.0 / 10.0 * days; // three consumers refuse each bad event
    line(
        "SQS",
        format!(
            "poison-pill DLQ ({:.1}% malformed, 3 consumers)",
            malformed * 100.0
        ),
        dlq_req / 1e6,
        "M req",
        dlq_req / 1e6 * p("sqs.request_m"),
        Mode::Both,
    );

    // ---- CloudWatch -----------------------------------------------------------------
    let log_gb = (qoe.log_bytes_per_day
        + features.log_bytes_per_day
        + transform.log_bytes_per_day
        + sre.log_bytes_per_day)
        / GB
        * days;
    line(
        "CloudWatch",
        "Logs ingestion (platform lines, EMF, batch logs)".into(),
        log_gb,
        "GB",
        log_gb * p("cw.logs_ingest_gb"),
        Mode::Both,
    );
    let log_stored = log_gb / days * pm.log_retention_days * 0.15;
    line(
        "CloudWatch",
        format!(
            "Logs storage ({} d retention, ~15% compressed)",
            pm.log_retention_days
        ),
        log_stored,
        "GB-mo",
        log_stored * p("cw.logs_storage_gb_month"),
        Mode::Both,
    );
    line(
        "CloudWatch",
        "alarms".into(),
        pm.alarms,
        "alarms",
        pm.alarms * p("cw.alarm_month"),
        Mode::Both,
    );
    line(
        "CloudWatch",
        "dashboard".into(),
        pm.dashboards,
        "dash",
        pm.dashboards * p("cw.dashboard_month"),
        Mode::Both,
    );
    line(
        "CloudWatch",
        "EMF custom metrics (metric x dimension values)".into(),
        pm.custom_metrics,
        "metrics",
        pm.custom_metrics * p("cw.metric_month"),
        Mode::Both,
    );
    line(
        "KMS",
        "customer managed key (requests negligible with bucket keys)".into(),
        pm.kms_keys,
        "keys",
        pm.kms_keys * p("kms.key_month"),
        Mode::Both,
    );

    Estimate {
        packed,
        events_per_record: k,
        record_bytes: rec_bytes,
        records_per_day: r_day,
        peak_records_per_s: peak_rps,
        peak_bytes_per_s: peak_bps,
        shards,
        qoe,
        features,
        transform,
        sre,
        feature_writes_per_day: feature_writes,
        window_writes_per_day: window_writes,
        lines,
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
    fn five_kb_rounding() {
        assert_eq!(round_up(400.0, 5.0 * KB), 5120.0);
        assert_eq!(round_up(5120.0, 5.0 * KB), 5120.0);
        assert_eq!(round_up(5121.0, 5.0 * KB), 10240.0);
        assert_eq!(round_up(3.0 * KB, 5.0 * KB), 5.0 * KB);
        assert_eq!(round_up(12.0 * KB, 5.0 * KB), 15.0 * KB); // the pricing page's example
        assert_eq!(round_up(0.0, KB), KB);
    }

    #[test]
    fn put_payload_units_are_25_kb() {
        assert_eq!(units(5.0 * KB, 25.0 * KB), 1.0);
        assert_eq!(units(45.0 * KB, 25.0 * KB), 2.0);
        assert_eq!(units(1024.0 * KB, 25.0 * KB), 41.0); // 1 MiB = 40.96 units -> 41
        assert_eq!(units(4.5 * KB, KB), 5.0); // on-demand: 4.5 KB billed as 5 KB
    }

    #[test]
    fn shard_count_at_peak() {
        // 2 B/day of 400 B events, one per record: 115 741 records/s at 5x peak.
        let pm = Params::default();
        let e = estimate(&pm, &Measured::default(), false);
        assert!((e.peak_records_per_s - 115_740.74).abs() < 0.1);
        assert_eq!(e.shards, 116.0, "the 1 000 records/s limit binds");
        // Packed 12 per record: 9 645 records/s of ~4.8 KB = 44.4 MiB/s -> bytes bind.
        let p = estimate(&pm, &Measured::default(), true);
        assert_eq!(p.events_per_record, 12.0);
        assert_eq!(p.shards, 45.0);
        assert_eq!(shards_for(0.0, 0.0), 1.0);
        assert_eq!(shards_for(MIB, 1000.0), 1.0);
        assert_eq!(shards_for(MIB + 1.0, 10.0), 2.0);
    }

    #[test]
    fn regimes_keep_the_daily_total() {
        let pm = Params::default();
        let total: f64 = pm.regimes().iter().map(|r| r.hours * r.factor).sum();
        assert!((total - 24.0).abs() < 1e-9);
    }

    #[test]
    fn firehose_tiers() {
        assert!((firehose_ingest_usd(1000.0) - 29.0).abs() < 1e-9);
        let at_600tb = firehose_ingest_usd(600.0 * 1024.0);
        let expect = 500.0 * 1024.0 * 0.029 + 100.0 * 1024.0 * 0.025;
        assert!((at_600tb - expect).abs() < 1e-6);
    }

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

    #[test]
    fn distinct_groups_and_window_item_growth() {
        assert!((expected_distinct(1e9, 100.0) - 100.0).abs() < 1e-6);
        assert!((expected_distinct(1.0, 1e9) - 1.0).abs() < 1e-6);
        assert_eq!(expected_distinct(0.0, 10.0), 0.0);
        // 250 B + 21 B per shard id: one WRU up to 36 shards, two from 37.
        assert_eq!(window_item_wru(250.0, 21.0, 1.0), 1.0);
        assert_eq!(window_item_wru(250.0, 21.0, 36.0), 1.0);
        assert!((window_item_wru(250.0, 21.0, 40.0) - (36.0 + 2.0 * 4.0) / 40.0).abs() < 1e-12);
    }

    #[test]
    fn lambda_gb_seconds() {
        // 1 000 events at 1 000 ns on a full vCPU (1 769 MB) = 1 ms CPU.
        let pm = Params {
            arm64_cpu_factor: 1.0,
            invoke_overhead_ms: 0.0,
            peak_hours: 24.0,
            peak_factor: 1.0,
            ..Params::default()
        };
        let c = Consumer {
            batch_size: 1000.0,
            batching_window_s: 1.0,
            parallelization: 1.0,
            memory_mb: FULL_VCPU_MB,
            tumbling_s: 0.0,
        };
        // One shard, 1 000 records/s: one full batch a second.
        let u = stream_lambda(
            &pm,
            c,
            1.0,
            86_400_000.0,
            1.0,
            500.0,
            1000.0,
            &|_, _| 0.0,
            &|_| 0.0,
        );
        assert!((u.invocations_per_day - 86_400.0).abs() < 1e-6);
        assert!((u.duration_ms_peak - 1.0).abs() < 1e-9);
        let expect = 86_400.0 * 0.001 * FULL_VCPU_MB / 1024.0;
        assert!((u.gb_s_per_day - expect).abs() < 1e-6);
    }

    #[test]
    fn reads_measured_json_and_falls_back_on_zeros() {
        let m = read_measured(r#"{"cost_inputs": {"qoe_cpu_ns_per_event": 700.0, "parquet_bytes_per_row": 0.0}, "other": 1}"#).unwrap();
        assert_eq!(m.qoe_cpu_ns_per_event, 700.0);
        assert_eq!(
            m.parquet_bytes_per_row,
            Measured::default().parquet_bytes_per_row
        );
    }
}
