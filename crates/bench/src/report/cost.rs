//! The cost model on this run's figures: its input, and the per-billion
//! section of RESULTS.md.

use std::fmt::Write as _;

use super::CostInputs;

/// The stored features item before the event ids were hashed (measured 2026-11-23).
const FIRST_FEATURE_ITEM_BYTES: f64 = 1566.0;

/// The measured figures as the cost model's input, with its fallbacks for
/// anything not measured (as `make cost` applies them).
pub fn cost_measured(c: &CostInputs) -> cost_model::Measured {
    c.clone().with_defaults()
}

/// Per-billion totals of `make cost` (default workload): as built, and the
/// first design for comparison (an UpdateItem per title x region window, the
/// 1.5 KB features item) so the effect of the store changes stays visible.
pub fn cost_section(c: &CostInputs) -> String {
    use cost_model::{estimate, per_billion, Mode, Params, WindowDesign};
    let m = cost_measured(c);
    let pm = Params::default();
    let u = estimate(&pm, &m, false);
    let p = estimate(&pm, &m, true);
    let first_pm = Params {
        window_design: WindowDesign::PerGroup,
        ..Params::default()
    };
    let first_m = cost_model::Measured {
        feature_item_bytes: FIRST_FEATURE_ITEM_BYTES,
        ..m.clone()
    };
    let q = estimate(&first_pm, &first_m, true);
    let real_k = if c.demo_events_per_record > 0.0 {
        c.demo_events_per_record
    } else {
        1.0
    };
    let realistic_pm = Params {
        events_per_record: Some(real_k),
        ..Params::default()
    };
    let r = estimate(&realistic_pm, &m, true);
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
    let _ = writeln!(s, "{}", row(&format!("First design, packed {:.0} events/record (window item per title x region, 1.5 KB features item)", q.events_per_record), &q));
    let _ = writeln!(
        s,
        "{}",
        row(
            &format!(
                "As built, at the packing the load generator reaches ({real_k:.2} events/record)"
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

/// Where `make cost` takes this run's figures from, in one sentence.
pub(super) fn inputs_note(s: &mut String, c: &CostInputs) {
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
}
