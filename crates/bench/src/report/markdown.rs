//! bench/RESULTS.md: the run header and inputs, then one section per
//! measurement, in the order the file reads.

use std::fmt::Write as _;

use super::numbers::{f0, mb};
use super::{cost, landing, release, throughput, Results};

/// RESULTS.md.
pub fn render(r: &Results, latency: &str) -> String {
    let mut s = String::new();
    header(&mut s, r);
    inputs(&mut s, r);
    throughput::handlers(&mut s, r);
    throughput::writes(&mut s, r);
    throughput::edge(&mut s, r);
    super::latency::section(&mut s, latency);
    landing::lake(&mut s, r);
    release::zips(&mut s, r);
    release::init(&mut s, r);
    s.push_str(&cost::cost_section(&r.cost_inputs));
    cost::inputs_note(&mut s, &r.cost_inputs);
    s
}

/// Title, what wrote the file, and the machine and load the figures come from.
fn header(s: &mut String, r: &Results) {
    let m = &r.machine;
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
}

/// The event files the load generator made, and how to make them again.
fn inputs(s: &mut String, r: &Results) {
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
}
