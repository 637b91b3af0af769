//! Everything one `bench` run measured, as bench/measured.json (read by the
//! cost model) and as bench/RESULTS.md.

use std::fmt::Write as _;

use serde::Serialize;

use crate::artifacts::{InitInfo, ZipInfo};
use crate::handlers::{Measurement, Writes};
use crate::lake_landing::LakeResult;
use crate::machine::Machine;

/// Target of the issue: decode + validate + aggregate, per core.
pub const TARGET_EVENTS_PER_S: f64 = 2_000_000.0;
/// The Python (Powertools BatchProcessor + pydantic) handler, as reported in the issue.
pub const PYTHON_EVENTS_PER_S: f64 = 200_000.0;
/// Zip size target per function.
pub const ZIP_TARGET_BYTES: u64 = 5 * 1000 * 1000;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InputInfo {
    pub name: String,
    pub scenario: String,
    pub file: String,
    pub file_bytes: usize,
    pub records: usize,
    pub events: usize,
    pub malformed: usize,
    pub payload_bytes: usize,
    pub cli: String,
}

/// The figures the cost model reads (crates/cost-model, `--measured`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
pub struct CostInputs {
    pub measured_on: String,
    /// CPU nanoseconds per event, end to end (what a warm Lambda pays), one event per record.
    pub qoe_cpu_ns_per_event: f64,
    pub features_cpu_ns_per_event: f64,
    /// The same with producer-packed records (~5 KB, one viewer each).
    pub qoe_cpu_ns_per_event_packed: f64,
    pub features_cpu_ns_per_event_packed: f64,
    /// firehose-transform, CPU ns per event end to end (one event per Firehose record).
    pub transform_cpu_ns_per_event: f64,
    /// Share of events that are playback-quality (also sent to SQS), demo hour.
    pub quality_share: f64,
    /// Feature saves per distinct viewer per batch (<= 1 is the design).
    pub feature_writes_per_viewer_batch: f64,
    /// Window flushes per title x region x window on one shard (<= 1).
    pub window_writes_per_group: f64,
    /// Distinct title x region groups per window over the even-spread bound.
    pub window_group_skew: f64,
    /// DynamoDB item size of a stored features item, bytes.
    pub feature_item_bytes: f64,
    /// The same if the 32 recent event ids were kept as 64-bit hashes (proposed).
    pub feature_item_bytes_hashed_ids: f64,
    /// Average event (JSON line) size of the benchmark batch, bytes.
    pub event_bytes: f64,
    /// Events per record the load generator's per-viewer packing reached in the demo hour.
    pub demo_events_per_record: f64,
    /// Parquet (snappy) bytes per lake row, all columns / the royalty close's 8 columns / event_id.
    pub parquet_bytes_per_row: f64,
    pub royalty_bytes_per_row: f64,
    pub event_id_bytes_per_row: f64,
    pub parquet_rows_per_s: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub runs: usize,
    pub warmup: usize,
    pub inputs: Vec<InputInfo>,
    pub handlers: Vec<Measurement>,
    pub writes: Vec<(String, Writes)>,
    /// bench/python_floor.py on the same batch (median events/s), if python3 ran.
    pub python_floor_events_per_s: Option<f64>,
    pub lake: Option<LakeResult>,
    pub lake_error: Option<String>,
    pub zips: Vec<ZipInfo>,
    pub init: Vec<InitInfo>,
    pub init_errors: Vec<String>,
    pub cost_inputs: CostInputs,
}

pub const LATENCY_BEGIN: &str =
    "<!-- latency:begin (kept by `make bench`; filled from the demo run) -->";
pub const LATENCY_END: &str = "<!-- latency:end -->";

/// The hand-maintained latency section of an existing RESULTS.md, if any.
pub fn preserved_latency(existing: &str) -> Option<String> {
    let start = existing.find(LATENCY_BEGIN)? + LATENCY_BEGIN.len();
    let end = existing[start..].find(LATENCY_END)? + start;
    Some(existing[start..end].trim().to_string())
}

pub const DEFAULT_LATENCY: &str = "**Not measured by `make bench`.** The local end-to-end alert latency \
(from the first record of an injected incident to the alert item: p50 and max) comes from the demo run \
(`make demo`, crates/demo), owned by another engineer. Paste its figures here: `make bench` keeps \
whatever stands between the two markers.";

fn f0(x: f64) -> String {
    let s = format!("{:.0}", x);
    let neg = s.starts_with('-');
    let digits: Vec<char> = s.trim_start_matches('-').chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(*c);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

fn mb(b: u64) -> String {
    format!("{:.2} MB", b as f64 / 1e6)
}

pub fn find<'a>(r: &'a Results, name: &str) -> Option<&'a Measurement> {
    find_in(&r.handlers, name)
}

pub fn find_in<'a>(ms: &'a [Measurement], name: &str) -> Option<&'a Measurement> {
    ms.iter().find(|m| m.name == name)
}

/// RESULTS.md.
pub fn render(r: &Results, latency: &str) -> String {
    let m = &r.machine;
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmark results\n");
    let _ = writeln!(
        s,
        "Written by `make bench` (the `bench` binary of crates/bench); do not edit by hand except \
         between the latency markers. Raw figures: [measured.json](measured.json) (read by `make cost`). \
         How to run and what each figure means: [README.md](README.md).\n"
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Date | {} |", m.date_utc);
    let _ = writeln!(s, "| Command | `{}` |", r.command);
    let _ = writeln!(
        s,
        "| Machine | {} cores (`nproc`), {}, Linux {} |",
        m.nproc, m.cpu_model, m.kernel
    );
    let _ = writeln!(
        s,
        "| Toolchain | {} , `--release` (opt-level 3, panic=abort) |",
        m.rustc
    );
    let _ = writeln!(s, "| Commit | {} |", m.git_commit);
    let _ = writeln!(
        s,
        "| Load average (1/5/15 min) | {:.2} / {:.2} / {:.2} at start, {:.2} / {:.2} / {:.2} at end |",
        m.load_start[0], m.load_start[1], m.load_start[2], m.load_end[0], m.load_end[1], m.load_end[2]
    );
    let _ = writeln!(
        s,
        "| Repetitions | median of {} timed runs after {} warm-up runs per figure, one thread |\n",
        r.runs, r.warmup
    );
    let _ = writeln!(
        s,
        "The machine is shared with other builds (2 cores): a load average near or above 2 means \
         another process competed for the core, and wall-clock figures then understate the code. \
         The `CPU` column (thread CPU time) is less sensitive to that; `best` is the fastest run.\n"
    );

    // Inputs
    let _ = writeln!(s, "## Inputs (made by the load generator)\n");
    let _ = writeln!(s, "| Input | Scenario | Records | Events | Malformed | Event file | Equivalent CLI |\n|---|---|---:|---:|---:|---:|---|");
    for i in &r.inputs {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {} | {} | `{}` |",
            i.name,
            i.scenario,
            f0(i.records as f64),
            f0(i.events as f64),
            f0(i.malformed as f64),
            mb(i.file_bytes as u64),
            i.cli
        );
    }
    let _ = writeln!(s);

    // Handlers
    let _ = writeln!(
        s,
        "## Handler throughput (events/s on one core, in-memory stores)\n"
    );
    let _ = writeln!(
        s,
        "Target: **{} events/s/core** for decode + validate + aggregate (10x the ~{} events/s the \
         issue reports for a Python Powertools BatchProcessor + pydantic handler on this machine; \
         that figure is quoted, see the measured Python floor below). *e2e* is what a warm Lambda pays \
         per batch: the event JSON (base64 `data` per record) deserialised exactly as lambda_runtime 1.5 \
         does, the handler, the response serialised. *core* is `handle()` on the already-parsed event. \
         *open* carries the tumbling-window state (the common invocation), *final* flushes the window.\n",
        f0(TARGET_EVENTS_PER_S),
        f0(PYTHON_EVENTS_PER_S)
    );
    if let Some(py) = r.python_floor_events_per_s {
        let _ = writeln!(
            s,
            "Reference measured in this run: the **Python stdlib floor** on the same file \
             (`bench/python_floor.py`: `json.loads` of the event, `base64.b64decode` and `json.loads` of every \
             line, nothing else: no pydantic, no validation, no aggregation) runs at **{} events/s**. \
             A Powertools + pydantic handler can only be slower than that, so the quoted 200 000 events/s \
             could not be reproduced here; the *vs Python* column still divides by the quoted figure.\n",
            f0(py)
        );
    }
    let _ = writeln!(
        s,
        "| Measurement | events/s (median) | best | CPU | ns/event | vs target | vs Python | what |\n|---|---:|---:|---:|---:|---:|---:|---|"
    );
    for h in &r.handlers {
        let st = &h.stats;
        let _ = writeln!(
            s,
            "| {} | **{}** | {} | {} | {:.0} | {:.2}x | {:.1}x | {} |",
            h.name,
            f0(st.per_s()),
            f0(st.best_per_s()),
            f0(st.per_cpu_s()),
            st.ns_per_unit(),
            st.per_s() / TARGET_EVENTS_PER_S,
            st.per_s() / PYTHON_EVENTS_PER_S,
            h.what
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Where the time goes, and the proposed changes (with before/after figures from a scratch copy): \
         [proposed-optimisations.md](proposed-optimisations.md).\n"
    );

    // Writes
    let _ = writeln!(
        s,
        "## Writes per batch (in-memory twins' `faults.write_count()`)\n"
    );
    let _ = writeln!(
        s,
        "| Run | Batch size (records) | Batches | Feature saves | Distinct viewers (sum over batches) | Window flushes | Title x region x window groups | Windows | Alert writes | Dead letters |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (name, w) in &r.writes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            name,
            w.batch_records,
            w.batches,
            w.feature_writes,
            w.distinct_viewers,
            w.window_writes,
            w.title_region_windows,
            w.windows,
            w.alert_writes,
            w.dead_letters
        );
    }
    let c = &r.cost_inputs;
    let _ = writeln!(
        s,
        "\nFeatures: **{:.3} saves per distinct viewer per batch** (target <= 1). Windows: **{:.3} flushes per \
         title x region per shard per window** (target <= 1). A stored features item is ~{:.0} bytes by \
         DynamoDB's size rules ({} WRU per save, {} RRU per strongly consistent read).\n",
        c.feature_writes_per_viewer_batch,
        c.window_writes_per_group,
        c.feature_item_bytes,
        (c.feature_item_bytes / 1024.0).ceil().max(1.0),
        (c.feature_item_bytes / 4096.0).ceil().max(1.0),
    );

    // Latency
    let _ = writeln!(s, "## Local end-to-end alert latency\n");
    let _ = writeln!(s, "{LATENCY_BEGIN}\n{latency}\n{LATENCY_END}\n");

    // Lake
    let _ = writeln!(
        s,
        "## Parquet landing (one simulated hour of the demo scenario)\n"
    );
    match (&r.lake, &r.lake_error) {
        (Some(l), _) => {
            let _ = writeln!(
                s,
                "{} events in {} records ({:.2} events/record with per-viewer packing), {} of \
                 NDJSON payload, through `lake::FirehoseEmulator` (buffering as deployed: 64 MiB / 300 s, \
                 dynamic partitioning by arrival dt/hour) into a `MemoryStore`.\n",
                f0(l.events as f64),
                f0(l.records as f64),
                l.events_per_record,
                mb(l.payload_bytes as u64)
            );
            let _ = writeln!(s, "| | |\n|---|---|");
            let _ = writeln!(
                s,
                "| Landing throughput (emulator: de-aggregation + transform + conversion + Parquet) | **{} rows/s** (median of {}; CPU {} rows/s) |",
                f0(l.landing.per_s()),
                l.landing.runs,
                f0(l.landing.per_cpu_s())
            );
            let _ = writeln!(
                s,
                "| Parquet encoding alone (`lake::write_rows`, all rows of the hour) | **{} rows/s** |",
                f0(l.parquet_write.per_s())
            );
            let _ = writeln!(
                s,
                "| Rows landed | {} (failed records: {}, error objects: {}, {} bytes) |",
                f0(l.rows_landed as f64),
                l.failed_records,
                l.error_files,
                l.error_bytes
            );
            let _ = writeln!(
                s,
                "| Lake objects | {} Parquet files, {} in all |",
                l.lake_files.len(),
                mb(l.parquet_bytes)
            );
            let _ = writeln!(
                s,
                "| Bytes per row | **{:.1} B** Parquet (snappy) vs {:.1} B of JSON payload per event ({:.1}x smaller) |",
                l.parquet_bytes_per_row,
                l.payload_bytes as f64 / l.events.max(1) as f64,
                (l.payload_bytes as f64 / l.events.max(1) as f64) / l.parquet_bytes_per_row.max(1e-9)
            );
            let _ = writeln!(
                s,
                "| Royalty close's 8 columns | {:.1} B/row (what Athena scans per row for the daily close) |\n",
                l.royalty_bytes_per_row
            );
            let _ = writeln!(
                s,
                "<details><summary>Files and per-column bytes/row</summary>\n"
            );
            let _ = writeln!(s, "| Object | Rows | Bytes |\n|---|---:|---:|");
            for f in &l.lake_files {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} |",
                    f.key,
                    f0(f.rows as f64),
                    f0(f.bytes as f64)
                );
            }
            let _ = writeln!(s, "\n| Column | bytes/row |\n|---|---:|");
            for (k, v) in &l.column_bytes_per_row {
                let _ = writeln!(s, "| {k} | {v:.2} |");
            }
            let _ = writeln!(s, "\n</details>\n");
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "Not measured: {e}\n");
        }
        _ => {
            let _ = writeln!(s, "Skipped (`--skip-lake`).\n");
        }
    }

    // Zips
    let _ = writeln!(s, "## Release zips (`make build`: arm64, cargo-lambda)\n");
    if r.zips.is_empty() {
        let _ = writeln!(
            s,
            "No target/lambda/*/bootstrap.zip found (run `make build`).\n"
        );
    } else {
        let _ = writeln!(
            s,
            "Measured as found on disk; `make bench` does not rebuild them. Target <= {} (read as \
             5 000 000 bytes; all four are under 5 MiB = 5 242 880 bytes). Size levers for the root \
             `[profile.release]` (not measured here: a cross build takes ~40 min on this machine): \
             `lto = \"fat\"`, `codegen-units = 1`, `opt-level = \"s\"` on the functions.\n",
            mb(ZIP_TARGET_BYTES)
        );
        let _ = writeln!(
            s,
            "| Function | Zip | Unzipped | vs 5 MB | Built |\n|---|---:|---:|---|---|"
        );
        for z in &r.zips {
            let _ = writeln!(
                s,
                "| {} | {} ({} B) | {} | {} | {} |",
                z.function,
                mb(z.bytes),
                f0(z.bytes as f64),
                mb(z.uncompressed_bytes),
                if z.bytes <= ZIP_TARGET_BYTES {
                    "within"
                } else {
                    "**over**"
                },
                z.modified_utc
            );
        }
        let _ = writeln!(s);
    }

    // Init
    let _ = writeln!(s, "## Local init time of each function binary\n");
    let _ = writeln!(
        s,
        "Method: the native x86_64 `--release` binary (target/release/<fn>, not the arm64 one in the zip) \
         runs with the environment Lambda gives it (function name, 512 MB, region, dummy credentials, \
         the function's table/queue variables) and `AWS_LAMBDA_RUNTIME_API` pointing at a local TCP \
         listener. Init = spawn -> the runtime's first `GET /2018-06-01/runtime/invocation/next` \
         (process start, loading, `main`: tracing, env config, AWS SDK config and clients). \
         Cross-check: the same binary without `AWS_LAMBDA_RUNTIME_API`, spawn -> exit. \
         On Lambda add the sandbox and network start-up, the arm64 CPU, and the CPU share: \
         512 MB gets ~0.29 vCPU (1 769 MB = 1 vCPU), so CPU-bound init takes ~3.5x longer there.\n"
    );
    if !r.init.is_empty() {
        let _ = writeln!(s, "| Function | Init, median | min | max | Runs | Exit without runtime API | Binary | Built |\n|---|---:|---:|---:|---:|---|---:|---|");
        for i in &r.init {
            let _ = writeln!(
                s,
                "| {} | **{:.2} ms** | {:.2} ms | {:.2} ms | {} | {:.2} ms ({}) | {} | {} |",
                i.function,
                i.to_first_poll_ms[0],
                i.to_first_poll_ms[1],
                i.to_first_poll_ms[2],
                i.runs,
                i.to_exit_without_api_ms,
                i.exit_without_api,
                mb(i.binary_bytes),
                i.built_utc
            );
        }
        let _ = writeln!(s);
    }
    for e in &r.init_errors {
        let _ = writeln!(s, "- not measured: {e}");
    }
    if !r.init_errors.is_empty() {
        let _ = writeln!(s);
    }

    s.push_str(&cost_section(c));
    let _ = writeln!(s, "## Cost model inputs\n");
    let _ = writeln!(
        s,
        "`make cost` reads these from measured.json: qoe-alerts {:.0} / {:.0} CPU ns per event \
         (one event per record / packed), session-features {:.0} / {:.0}; {:.2} events per record in \
         the demo hour; {:.1} B Parquet per row, {:.1} B/row for the royalty columns.",
        c.qoe_cpu_ns_per_event,
        c.qoe_cpu_ns_per_event_packed,
        c.features_cpu_ns_per_event,
        c.features_cpu_ns_per_event_packed,
        c.demo_events_per_record,
        c.parquet_bytes_per_row,
        c.royalty_bytes_per_row
    );
    s
}

/// The measured figures as the cost model's input.
pub fn cost_measured(c: &CostInputs) -> cost_model::Measured {
    let mut m = cost_model::Measured {
        measured_on: c.measured_on.clone(),
        qoe_cpu_ns_per_event: c.qoe_cpu_ns_per_event,
        features_cpu_ns_per_event: c.features_cpu_ns_per_event,
        qoe_cpu_ns_per_event_packed: c.qoe_cpu_ns_per_event_packed,
        features_cpu_ns_per_event_packed: c.features_cpu_ns_per_event_packed,
        transform_cpu_ns_per_event: c.transform_cpu_ns_per_event,
        quality_share: c.quality_share,
        feature_writes_per_viewer_batch: c.feature_writes_per_viewer_batch,
        window_writes_per_group: c.window_writes_per_group,
        window_group_skew: c.window_group_skew,
        feature_item_bytes: c.feature_item_bytes,
        demo_events_per_record: c.demo_events_per_record,
        parquet_bytes_per_row: c.parquet_bytes_per_row,
        royalty_bytes_per_row: c.royalty_bytes_per_row,
        event_id_bytes_per_row: c.event_id_bytes_per_row,
    };
    // Same fallbacks as `make cost` for anything not measured.
    let text = serde_json::json!({ "cost_inputs": serde_json::to_value(c).unwrap_or_default() })
        .to_string();
    if let Ok(fixed) = cost_model::read_measured(&text) {
        m = fixed;
    }
    m
}

/// Per-billion totals of `make cost` (default workload), as deployed and with
/// the proposals of proposed-optimisations.md.
pub fn cost_section(c: &CostInputs) -> String {
    use cost_model::{estimate, per_billion, Mode, Params, WindowDesign};
    let m = cost_measured(c);
    let pm = Params::default();
    let u = estimate(&pm, &m, false);
    let p = estimate(&pm, &m, true);
    let mut proposed_pm = Params::default();
    proposed_pm.features.batch_size = 10_000.0;
    proposed_pm.features.batching_window_s = 60.0;
    proposed_pm.window_design = WindowDesign::PerShardItem;
    let mut pm_m = m.clone();
    if c.feature_item_bytes_hashed_ids > 0.0 {
        pm_m.feature_item_bytes = c.feature_item_bytes_hashed_ids;
    }
    let q = estimate(&proposed_pm, &pm_m, true);
    let real_k = if c.demo_events_per_record > 0.0 {
        c.demo_events_per_record
    } else {
        1.0
    };
    let realistic_pm = Params {
        events_per_record: Some(real_k),
        ..proposed_pm.clone()
    };
    let r = estimate(&realistic_pm, &pm_m, true);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Cost per billion events (`make cost`, default workload)\n"
    );
    let _ = writeln!(
        s,
        "2 billion events/day of 400 B, 5x peak for 2 h, 150 M viewers, us-east-1 list prices ({}; \
         verified/assumed per price: `make cost-prices`). Monthly totals / per billion events:\n",
        cost_model::prices::PRICES_AS_OF
    );
    let _ = writeln!(s, "| Configuration | Kinesis on-demand (deployed) | Kinesis provisioned | Provisioned shards at peak |\n|---|---:|---:|---:|");
    let row = |label: &str, e: &cost_model::Estimate| {
        format!(
            "| {label} | ${:.0} / **${:.0}** | ${:.0} / **${:.0}** | {:.0} |",
            e.total(Mode::OnDemand),
            per_billion(&pm, e.total(Mode::OnDemand)),
            e.total(Mode::Provisioned),
            per_billion(&pm, e.total(Mode::Provisioned)),
            e.shards
        )
    };
    let _ = writeln!(s, "{}", row("As built, one event per record", &u));
    let _ = writeln!(
        s,
        "{}",
        row(
            &format!("As built, packed {:.0} events/record", p.events_per_record),
            &p
        )
    );
    let _ = writeln!(s, "{}", row("Proposed (packed 12/record, features 60 s / 10 000 batches, hashed event ids, one window item per shard)", &q));
    let _ = writeln!(
        s,
        "{}",
        row(
            &format!(
                "Proposed, at the packing the load generator reaches ({real_k:.2} events/record)"
            ),
            &r
        )
    );
    let mut top: Vec<_> = p
        .lines
        .iter()
        .filter(|l| l.mode != Mode::OnDemand)
        .collect();
    top.sort_by(|a, b| b.usd.total_cmp(&a.usd));
    let _ = writeln!(
        s,
        "\nLargest lines, as built, packed, provisioned Kinesis:\n"
    );
    for l in top.iter().take(6) {
        let _ = writeln!(
            s,
            "- {} {}: ${:.0}/month (${:.2} per billion)",
            l.service,
            l.item,
            l.usd,
            per_billion(&pm, l.usd)
        );
    }
    let _ = writeln!(
        s,
        "\nPeak Lambda concurrency (packed, as built): qoe-alerts {:.0} (event source max) / {:.1} busy, \
         session-features {:.0} / {:.1}, firehose-transform {:.1} busy, sre-buffer max 10.\n",
        p.qoe.esm_concurrency, p.qoe.busy_concurrency_peak, p.features.esm_concurrency, p.features.busy_concurrency_peak, p.transform.busy_concurrency_peak
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_section_survives_a_rewrite() {
        let doc = format!("head\n{LATENCY_BEGIN}\np50 1.2 s, max 4 s\n{LATENCY_END}\ntail");
        assert_eq!(
            preserved_latency(&doc).as_deref(),
            Some("p50 1.2 s, max 4 s")
        );
        assert_eq!(preserved_latency("no markers"), None);
    }

    #[test]
    fn thousands_are_spaced() {
        assert_eq!(f0(1234567.4), "1 234 567");
        assert_eq!(f0(999.0), "999");
        assert_eq!(f0(-1000.0), "-1 000");
    }
}
