//! Criterion benches of the hot loops (`cargo bench -p bench`, or `make bench-criterion`):
//! the same 10 000-record batch as `make bench`, one event per record, 2 % malformed.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

use bench::handlers::{self, features, qoe};
use bench::inputs::{self, EventFile};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use loadgen::sinks::WindowMode;
use playback_aws::kinesis_batch::decode_batch;
use playback_domain::qoe::ShardWindow;

fn input(window: Option<WindowMode>, name: &str) -> EventFile {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/inputs");
    let cfg = inputs::load_scenario(&dir.join("handler-batch.json")).expect("scenario");
    let run = loadgen::generate(&cfg).expect("generate");
    let out =
        std::env::temp_dir().join(format!("playback-bench-{}-{name}.json", std::process::id()));
    let f = inputs::write_event_file(&run, &out, window).expect("event file");
    let _ = std::fs::remove_file(&out);
    f
}

fn benches(c: &mut Criterion) {
    let rt = handlers::runtime();
    let plain = input(None, "plain");
    let open = input(Some(WindowMode::Open), "open");
    let n = plain.events as u64;
    let kev = handlers::lambda_payload(&plain.bytes);
    let tev = handlers::lambda_payload(&open.bytes);
    let warm = handlers::warm_store(&rt, &kev, plain.clock);

    let mut g = c.benchmark_group("batch-10k");
    g.throughput(Throughput::Elements(n));
    g.sample_size(30);
    g.bench_function("deserialise KinesisBatch", |b| {
        b.iter(|| handlers::recycle(handlers::lambda_payload(black_box(&plain.bytes))))
    });
    g.bench_function("deserialise KinesisBatch (window)", |b| {
        b.iter(|| handlers::recycle(handlers::lambda_payload(black_box(&open.bytes))))
    });
    g.bench_function("decode_batch", |b| {
        b.iter(|| {
            decode_batch(black_box(&kev), "bench", plain.clock)
                .events
                .len()
        })
    });
    g.bench_function("qoe aggregate (ShardWindow::add)", |b| {
        let batch = decode_batch(&kev, "bench", plain.clock);
        b.iter(|| {
            let mut w = ShardWindow::default();
            for e in &batch.events {
                w.add(&e.event);
            }
            w
        })
    });
    g.bench_function("qoe-alerts core (open)", |b| {
        b.iter_batched(
            qoe,
            |h| rt.block_on(h.handler.handle(&tev, open.clock)).map(|r| r.0),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("qoe-alerts e2e (open)", |b| {
        b.iter_batched(
            qoe,
            |h| handlers::qoe_e2e(&rt, &h, &open.bytes, open.clock),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("session-features core (warm)", |b| {
        b.iter_batched(
            || features(warm.clone()),
            |h| rt.block_on(h.handler.handle(&kev, plain.clock)).1,
            BatchSize::LargeInput,
        )
    });
    g.bench_function("session-features core (empty store)", |b| {
        b.iter_batched(
            || features(BTreeMap::new()),
            |h| rt.block_on(h.handler.handle(&kev, plain.clock)).1,
            BatchSize::LargeInput,
        )
    });
    g.bench_function("session-features e2e (warm)", |b| {
        b.iter_batched(
            || features(warm.clone()),
            |h| handlers::features_e2e(&rt, &h, &plain.bytes, plain.clock),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(handler_benches, benches);
criterion_main!(handler_benches);
