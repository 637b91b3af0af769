//! `bench`: runs every measurement, prints the figures, rewrites
//! bench/RESULTS.md and bench/measured.json. `make bench` runs it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bench::handlers::{self, Plan};
use bench::inputs::{self, EventFile};
use bench::report::{self, CostInputs, InputInfo, Results};
use bench::{artifacts, lake_landing, machine::Machine};
use clap::Parser;
use loadgen::sinks::WindowMode;

#[derive(Parser, Debug)]
#[command(
    name = "bench",
    about = "Playback pipeline benchmarks: writes bench/RESULTS.md and bench/measured.json"
)]
struct Args {
    /// Timed runs per figure (the median is reported).
    #[arg(long, default_value_t = 21)]
    runs: usize,
    /// Untimed warm-up runs per figure.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Scenario files (loadgen ScenarioConfig JSON).
    #[arg(long, default_value = "bench/inputs")]
    inputs: PathBuf,
    /// Where the generated event files go.
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
    #[arg(long, default_value = "bench/RESULTS.md")]
    results: PathBuf,
    #[arg(long, default_value = "bench/measured.json")]
    measured: PathBuf,
    /// The zips `make build` writes.
    #[arg(long, default_value = "target/lambda")]
    lambda_dir: PathBuf,
    /// Native release binaries of the functions (for init time).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    #[arg(long, default_value_t = 21)]
    init_runs: usize,
    #[arg(long, default_value_t = 3)]
    lake_runs: usize,
    #[arg(long)]
    skip_lake: bool,
    #[arg(long)]
    skip_init: bool,
    /// Print only; leave RESULTS.md and measured.json alone.
    #[arg(long)]
    dry_run: bool,
    /// Measure nothing: rewrite RESULTS.md from measured.json (e.g. after
    /// editing the latency section, or after a change to the report's text).
    #[arg(long)]
    render_only: bool,
}

const FUNCTIONS: [&str; 4] = [
    "qoe-alerts",
    "session-features",
    "sre-buffer",
    "firehose-transform",
];

struct Input {
    info: InputInfo,
    file: EventFile,
}

fn event_file(
    args: &Args,
    scenario: &str,
    suffix: &str,
    window: Option<WindowMode>,
) -> anyhow::Result<Input> {
    let path = args.inputs.join(format!("{scenario}.json"));
    let cfg = inputs::load_scenario(&path)?;
    let run = loadgen::generate(&cfg).with_context(|| format!("generate {}", path.display()))?;
    let out = args.work.join(format!("{scenario}{suffix}.json"));
    let file = inputs::write_event_file(&run, &out, window)?;
    let info = InputInfo {
        name: format!("{scenario}{suffix}"),
        scenario: path.display().to_string(),
        file: out.display().to_string(),
        file_bytes: file.bytes.len(),
        records: file.records,
        events: file.events,
        malformed: file.malformed,
        payload_bytes: file.payload_bytes,
        cli: inputs::equivalent_cli(&path, &out, window),
    };
    Ok(Input { info, file })
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.render_only {
        let text = std::fs::read_to_string(&args.measured)
            .with_context(|| format!("read {}", args.measured.display()))?;
        let results: Results = serde_json::from_str(&text)
            .with_context(|| format!("parse {}", args.measured.display()))?;
        write_outputs(&args.results, &args.measured, &results)?;
        eprintln!(
            "bench: rewrote {} from {}",
            args.results.display(),
            args.measured.display()
        );
        return Ok(());
    }
    let mut machine = Machine::probe();
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let command = if extra.is_empty() {
        "make bench (builds, then runs target/release/bench)".to_string()
    } else {
        format!("make bench BENCH_ARGS=\"{}\"", extra.join(" "))
    };
    eprintln!(
        "bench: load average {:?}; generating inputs ...",
        machine.load_start
    );

    let plain = event_file(&args, "handler-batch", "", None)?;
    let open = event_file(
        &args,
        "handler-batch",
        "-window-open",
        Some(WindowMode::Open),
    )?;
    let fin = event_file(
        &args,
        "handler-batch",
        "-window-final",
        Some(WindowMode::Final),
    )?;
    let p_plain = event_file(&args, "handler-batch-packed", "", None)?;
    let p_open = event_file(
        &args,
        "handler-batch-packed",
        "-window-open",
        Some(WindowMode::Open),
    )?;
    let p_fin = event_file(
        &args,
        "handler-batch-packed",
        "-window-final",
        Some(WindowMode::Final),
    )?;

    let rt = handlers::runtime();
    let plan = Plan {
        warmup: args.warmup,
        runs: args.runs,
    };
    let mut measurements = Vec::new();
    let mut writes = Vec::new();
    let feature_item_bytes;
    let edge;
    {
        eprintln!("bench: handlers (one event per record) ...");
        measurements.extend(handlers::measure_qoe(&rt, &open.file, &fin.file, plan, ""));
        measurements.extend(handlers::measure_features(&rt, &plain.file, plan, ""));
        measurements.extend(handlers::measure_transform(&plain.file, plan));
        eprintln!("bench: handlers (packed records) ...");
        measurements.extend(handlers::measure_qoe(
            &rt,
            &p_open.file,
            &p_fin.file,
            plan,
            " packed",
        ));
        measurements.extend(handlers::measure_features(
            &rt,
            &p_plain.file,
            plan,
            " packed",
        ));
        eprintln!("bench: writes per batch ...");
        let whole = plain.file.records;
        writes.push((
            "session-features, whole file as one batch".to_string(),
            handlers::feature_writes(&rt, &plain.file, whole),
        ));
        writes.push((
            "session-features, deployed BatchSize 500".to_string(),
            handlers::feature_writes(&rt, &plain.file, 500),
        ));
        writes.push((
            "session-features packed, BatchSize 500".to_string(),
            handlers::feature_writes(&rt, &p_plain.file, 500),
        ));
        let groups = |name: &str| -> anyhow::Result<f64> {
            let cfg = inputs::load_scenario(&args.inputs.join(format!("{name}.json")))?;
            Ok(cfg.titles as f64 * loadgen::population::REGIONS.len() as f64)
        };
        let (g, gp) = (groups("handler-batch")?, groups("handler-batch-packed")?);
        writes.push((
            "qoe-alerts, 10 s windows, BatchSize 1000".to_string(),
            handlers::window_writes(&rt, &fin.file, 10_000, 1000, g),
        ));
        writes.push((
            "qoe-alerts packed, 10 s windows, BatchSize 1000".to_string(),
            handlers::window_writes(&rt, &p_fin.file, 10_000, 1000, gp),
        ));
        eprintln!("bench: collector per request ...");
        let cfg = inputs::load_scenario(&args.inputs.join("handler-batch.json"))?;
        let run = loadgen::generate(&cfg)?;
        edge = bench::edge::measure_collector(&rt, &run, inputs::clock_of(&run), plan);
        let event = handlers::lambda_payload(&plain.file.bytes);
        let warm = handlers::warm_store(&rt, &event, plain.file.clock);
        feature_item_bytes = handlers::feature_item_bytes(&warm);
    }

    eprintln!("bench: Python stdlib floor ...");
    let python_floor_events_per_s = std::process::Command::new("python3")
        .arg(args.inputs.join("../python_floor.py"))
        .arg(&plain.file.path)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        });

    let (lake, lake_error) = if args.skip_lake {
        (None, None)
    } else {
        eprintln!("bench: Parquet landing of the demo hour ...");
        let path = args.inputs.join("demo-hour.json");
        let result = inputs::load_scenario(&path)
            .and_then(|cfg| loadgen::generate(&cfg).map_err(Into::into))
            .and_then(|run| lake_landing::measure(&rt, &run, args.lake_runs));
        match result {
            Ok(l) => (Some(l), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        }
    };

    let zips = artifacts::zips(&args.lambda_dir);
    let mut init = Vec::new();
    let mut init_errors = Vec::new();
    if !args.skip_init {
        eprintln!("bench: init times ...");
        for f in FUNCTIONS {
            match artifacts::init_time(&args.bin_dir, f, args.init_runs) {
                Ok(i) => init.push(i),
                Err(e) => init_errors.push(format!("{f}: {e:#}")),
            }
        }
    }
    machine.finish();

    let cpu = |name: &str| {
        report::find_in(&measurements, name)
            .map(|m| m.stats.cpu_ns_per_unit())
            .unwrap_or(0.0)
    };
    let per_request: Vec<(usize, f64)> = bench::edge::EVENTS_PER_REQUEST
        .iter()
        .zip(&edge)
        .map(|(n, m)| {
            (
                *n,
                m.stats.median_cpu_ns as f64 / m.stats.units.max(1) as f64,
            )
        })
        .collect();
    let (collector_base, collector_per_event) = bench::edge::cpu_fit(&per_request);
    let w_features = &writes[1].1;
    let w_windows = &writes[3].1;
    let cost_inputs = CostInputs {
        measured_on: format!(
            "{} on {} ({} cores)",
            machine.date_utc, machine.cpu_model, machine.nproc
        ),
        qoe_cpu_ns_per_event: cpu("qoe-alerts e2e (open window)"),
        features_cpu_ns_per_event: cpu("session-features e2e (warm store)"),
        qoe_cpu_ns_per_event_packed: cpu("qoe-alerts packed e2e (open window)"),
        features_cpu_ns_per_event_packed: cpu("session-features packed e2e (warm store)"),
        transform_cpu_ns_per_event: cpu("firehose-transform e2e"),
        feature_writes_per_viewer_batch: w_features.feature_writes as f64
            / w_features.distinct_viewers.max(1) as f64,
        window_writes_per_shard_window: w_windows.window_writes as f64
            / w_windows.windows.max(1) as f64,
        window_group_skew: w_windows.title_region_windows as f64
            / w_windows.even_spread_groups.max(1.0),
        feature_item_bytes,
        event_bytes: plain.file.payload_bytes as f64 / plain.file.events.max(1) as f64,
        sre_share: lake.as_ref().map(|l| l.sre_share).unwrap_or(0.0),
        demo_events_per_record: lake.as_ref().map(|l| l.events_per_record).unwrap_or(0.0),
        parquet_bytes_per_row: lake
            .as_ref()
            .map(|l| l.parquet_bytes_per_row)
            .unwrap_or(0.0),
        royalty_bytes_per_row: lake
            .as_ref()
            .map(|l| l.royalty_bytes_per_row)
            .unwrap_or(0.0),
        event_id_bytes_per_row: lake
            .as_ref()
            .and_then(|l| l.column_bytes_per_row.get("event_id").copied())
            .unwrap_or(0.0),
        parquet_rows_per_s: lake
            .as_ref()
            .map(|l| l.parquet_write.per_s())
            .unwrap_or(0.0),
        collector_cpu_ns_per_request: collector_base,
        collector_cpu_ns_per_event: collector_per_event,
    };
    let results = Results {
        machine,
        command,
        runs: args.runs,
        warmup: args.warmup,
        inputs: [plain, open, fin, p_plain, p_open, p_fin]
            .into_iter()
            .map(|i| i.info)
            .collect(),
        handlers: measurements,
        edge,
        writes,
        python_floor_events_per_s,
        lake,
        lake_error,
        zips,
        init,
        init_errors,
        cost_inputs,
    };

    report::print_summary(&results);
    if !args.dry_run {
        write_outputs(&args.results, &args.measured, &results)?;
        eprintln!(
            "bench: wrote {} and {}",
            args.results.display(),
            args.measured.display()
        );
    }
    Ok(())
}

fn write_outputs(md: &Path, json: &Path, r: &Results) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(md).unwrap_or_default();
    let latency =
        report::preserved_latency(&existing).unwrap_or_else(|| report::DEFAULT_LATENCY.to_string());
    if let Some(d) = md.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(md, report::render(r, &latency))?;
    std::fs::write(json, serde_json::to_string_pretty(r)? + "\n")?;
    Ok(())
}
