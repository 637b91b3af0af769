//! The decode path taken apart, to see where an event's nanoseconds go:
//! `cargo run --release -p bench --example steps [runs] [event file]`
//! (the event files are the ones `make bench` writes under target/bench/).

use bench::handlers::{self, qoe};
use bench::timing::{repeat, Stats};
use playback_aws::kinesis_batch::{decode_batch, KinesisBatch};
use playback_domain::event::parse_event;
use playback_domain::features::fold_features;
use playback_domain::qoe::ShardWindow;

fn row(name: &str, s: &Stats) {
    println!(
        "{name:<38} {:>10.0} events/s {:>8.0} ns/event",
        s.per_cpu_s(),
        s.cpu_ns_per_unit()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(11);
    let path = args
        .next()
        .unwrap_or_else(|| "target/bench/handler-batch-packed-window-open.json".into());
    let body = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("steps: {path}: {e} (run `make bench-quick` first)");
        std::process::exit(2)
    });
    let batch = handlers::lambda_payload(&body);
    let clock = {
        let decoded = decode_batch(&batch, "steps", playback_domain::Clock::at(i64::MAX / 4));
        let last = decoded.events.iter().map(|e| e.event.event_time_ms).max();
        playback_domain::Clock::at(last.unwrap_or(0) + 61_000)
    };
    let lines: Vec<&str> = batch
        .records()
        .filter_map(|r| r.data)
        .filter_map(|d| std::str::from_utf8(d).ok())
        .flat_map(|t| t.split('\n').map(str::trim).filter(|l| !l.is_empty()))
        .collect();
    let n = lines.len() as u64;
    let decoded = decode_batch(&batch, "steps", clock);
    println!(
        "{path}: {} records, {n} lines, {} valid, {} dead",
        batch.len(),
        decoded.events.len(),
        decoded.dead.len()
    );
    let rows = [
        (
            "payload, fresh buffers",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| {
                    let raw: Box<serde_json::value::RawValue> = handlers::lambda_deserialize(&body);
                    serde_json::from_str::<KinesisBatch>(raw.get()).expect("event")
                },
            ),
        ),
        (
            "payload, pooled buffers (as main.rs)",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| handlers::recycle(handlers::lambda_payload(&body)),
            ),
        ),
        (
            "utf-8 + split lines",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| {
                    batch
                        .records()
                        .filter_map(|r| r.data)
                        .filter_map(|d| std::str::from_utf8(d).ok())
                        .map(|t| {
                            t.split('\n')
                                .map(str::trim)
                                .filter(|l| !l.is_empty())
                                .count()
                        })
                        .sum::<usize>()
                },
            ),
        ),
        (
            "parse_event (parse + validate)",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| {
                    lines
                        .iter()
                        .filter(|l| parse_event(l, clock.now_ms, clock.max_future_skew_ms).is_ok())
                        .count()
                },
            ),
        ),
        (
            "decode_batch (+ positions, dead letters)",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| decode_batch(&batch, "steps", clock).events.len(),
            ),
        ),
        (
            "aggregate (ShardWindow::add)",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| {
                    let mut w = ShardWindow::default();
                    decoded.events.iter().for_each(|e| w.add(&e.event));
                    w
                },
            ),
        ),
        ("window state (to_state)", {
            let mut w = ShardWindow::default();
            decoded.events.iter().for_each(|e| w.add(&e.event));
            repeat(2, runs, n, || (), |_| w.to_state())
        }),
        (
            "fold features (every viewer of the batch)",
            repeat(
                2,
                runs,
                n,
                || (),
                |_| {
                    let stored = std::collections::BTreeMap::new();
                    fold_features(
                        &stored,
                        decoded.events.iter().map(|e| (&e.event, &e.position)),
                    )
                    .len()
                },
            ),
        ),
        ("qoe-alerts core (handle)", {
            let rt = handlers::runtime();
            repeat(2, runs, n, qoe, |h| {
                rt.block_on(h.handler.handle(&batch, clock)).map(|r| r.0)
            })
        }),
    ];
    for (name, s) in &rows {
        row(name, s);
    }
}
