//! RESULTS.md sections of the handler measurements: throughput per core, and
//! store writes per batch.

use std::fmt::Write as _;

use super::numbers::f0;
use super::{Results, PYTHON_EVENTS_PER_S, TARGET_EVENTS_PER_S};

/// Events/s of each handler measurement against the target and Python.
pub(super) fn handlers(s: &mut String, r: &Results) {
    let _ = writeln!(
        s,
        "## Handler throughput (events/s on one core, in-memory stores)\n"
    );
    let _ = writeln!(
        s,
        "Target: **{} events/s/core** for decode + validate + aggregate (10x the ~{} events/s the \
         issue reports for a Python Powertools BatchProcessor + pydantic handler on this machine; \
         that figure is quoted, see the measured Python floor below). *e2e* is what a warm Lambda pays \
         per batch: the event JSON (base64 `data` per record) taken exactly as both `main.rs` take it \
         (lambda_runtime 1.5 hands over the raw payload, parsed in one pass into a pooled `KinesisBatch`), \
         the handler, the response serialised. *core* is `handle()` on the already-parsed event. \
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
        "Where the time goes, what was changed and what is left: [PROFILE.md](PROFILE.md).\n"
    );
}

/// The collector's CPU per request, as `make cost` prices the edge.
pub(super) fn edge(s: &mut String, r: &Results) {
    if r.edge.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Collector per request (one core, in-memory twins)\n\n\
         `crates/bench/src/edge.rs`: each viewer's events, n per `POST /v1/events`, through \
         `Collector::handle` (auth, validation, enrichment, packing, the stream and SRE-queue twins, \
         the response). TLS, SigV4 and the SDK's HTTP are not in it. `make cost` fits a fixed part \
         and a part per event on these rows (`collector_cpu_ns_per_request`, `collector_cpu_ns_per_event`).\n"
    );
    let _ = writeln!(
        s,
        "| Measurement | requests | requests/s (median) | CPU us/request | CPU ns/event |\n|---|---:|---:|---:|---:|"
    );
    for h in &r.edge {
        let st = &h.stats;
        let cpu_per_request = st.median_cpu_ns as f64 / st.units.max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.0} |",
            h.name,
            h.records,
            f0(st.per_s()),
            cpu_per_request / 1e3,
            st.median_cpu_ns as f64 / h.events.max(1) as f64
        );
    }
    let _ = writeln!(s);
}

/// Write calls per batch counted by the in-memory twins, and what they mean in
/// DynamoDB units.
pub(super) fn writes(s: &mut String, r: &Results) {
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
        "\nFeatures: **{:.3} saves per distinct viewer per batch** (target <= 1). Windows: **{:.3} writes per \
         shard per window**, one item holding all of the shard's title x region groups (target: <= 1 per \
         title x region per shard per window; the first design wrote exactly 1 per group). A stored \
         features item is ~{:.0} bytes by DynamoDB's size rules ({} WRU per save, {} RRU per strongly \
         consistent read).\n",
        c.feature_writes_per_viewer_batch,
        c.window_writes_per_shard_window,
        c.feature_item_bytes,
        (c.feature_item_bytes / 1024.0).ceil().max(1.0),
        (c.feature_item_bytes / 4096.0).ceil().max(1.0),
    );
}
