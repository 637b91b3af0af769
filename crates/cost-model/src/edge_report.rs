//! `make cost`'s ingest-edge section: each host at 1, 5 and 20 events per
//! request, the edge alone and the whole bill behind it, and where Fargate
//! overtakes the Lambda.

use cost_model::edge::{behind, edge_lines, EdgeHost};
use cost_model::{estimate, per_billion, Measured, Mode, Params};

use crate::money;

/// The whole bill behind `host` (Kinesis on-demand, as deployed).
fn all_in(pm: &Params, m: &Measured, host: EdgeHost, n: f64) -> f64 {
    estimate(&behind(pm, host, n), m, true).total(Mode::OnDemand)
}

fn edge_usd(pm: &Params, m: &Measured, host: EdgeHost, n: f64) -> f64 {
    edge_lines(pm, m, host, n).iter().map(|l| l.usd).sum()
}

/// The smallest daily volume (of a log-spaced scan) at which Fargate's whole
/// bill is below the function URL's, at the deployed events per request.
fn crossover(pm: &Params, m: &Measured) -> Option<f64> {
    let n = pm.edge.events_per_request;
    (0..=60)
        .map(|i| 1e4 * 10f64.powf(i as f64 / 10.0))
        .find(|&v| {
            let q = Params {
                events_per_day: v,
                ..pm.clone()
            };
            all_in(&q, m, EdgeHost::Fargate, n) < all_in(&q, m, EdgeHost::FunctionUrl, n)
        })
}

pub fn print(pm: &Params, m: &Measured) {
    println!(
        "\nIngest edge at {:.2} B events/day (collector CPU {:.1} us + {:.1} us/event on the bench machine, x{} on arm64):",
        pm.events_per_day / 1e9,
        m.collector_cpu_ns_per_request / 1e3,
        m.collector_cpu_ns_per_event / 1e3,
        pm.arm64_cpu_factor
    );
    println!(
        "  {:<15} {:>12} {:>14} {:>14} {:>14} {:>20}",
        "host", "events/req", "edge $/month", "edge $/billion", "events/record", "all-in $/billion"
    );
    for host in EdgeHost::ALL {
        for n in [1.0, 5.0, 20.0] {
            let edge = edge_usd(pm, m, host, n);
            let e = estimate(&behind(pm, host, n), m, true);
            println!(
                "  {:<15} {:>12} {:>14} {:>14} {:>14.1} {:>20}",
                host.name(),
                n,
                money(edge),
                money(per_billion(pm, edge)),
                e.events_per_record,
                money(per_billion(pm, e.total(Mode::OnDemand)))
            );
        }
    }
    let (host, n) = (pm.edge.host, pm.edge.events_per_request);
    println!(
        "  As deployed ({}, {n} events/request): edge {} per billion; the whole bill behind it {} per billion (Kinesis on-demand).",
        host.name(),
        money(per_billion(pm, edge_usd(pm, m, host, n))),
        money(per_billion(pm, all_in(pm, m, host, n)))
    );
    match crossover(pm, m) {
        Some(v) => println!(
            "  Pick: the Lambda (function URL) below ~{:.1} M events/day; Fargate + ALB above, where packing across viewers also shrinks every stream line.",
            v / 1e6
        ),
        None => println!("  Pick: the Lambda (function URL) at every volume up to 10 B events/day."),
    }
    println!(
        "  cognito-direct: no edge to run, but every player holds AWS credentials that can write any record (forged or replayed events, any partition key, no validation before the stream), abuse is throttled only by the stream, and each player is a KMS principal."
    );
}
