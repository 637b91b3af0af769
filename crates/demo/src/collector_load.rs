//! `make load-collector`: a bounded load test of the local collector. The
//! load generator's players POST as fast as they can to 127.0.0.1 (never a
//! remote host), the collector packs and writes the emulator's stream
//! through a fault double that refuses a share of every PutRecords, and the
//! stream is then read back: every valid event the players sent must be in
//! it (copies from retried requests allowed, losses not).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use loadgen::runner::{CollectorReport, Outputs, RunOptions};
use loadgen::ScenarioConfig;
use local_pipeline::collector::{LingerConfig, LocalCollectorOptions};
use local_pipeline::{setup, teardown, Topology};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Events the players send (valid ones: no bad build, no duplicates).
    pub events: u64,
    /// Simulated events per second (sets how many players are watching at once).
    pub rate: f64,
    pub viewers: u32,
    pub seed: u64,
    /// Share of PutRecords entries the fault double refuses.
    pub put_failure_rate: f64,
    pub linger: Duration,
    pub out_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub cfg: LoadConfig,
    pub collector: CollectorReport,
    pub elapsed: Duration,
    /// Valid events the players generated (each sent until accepted).
    pub valid_events: u64,
    /// Distinct event_ids in the stream, and every line (retried copies too).
    pub distinct_in_stream: u64,
    pub lines_in_stream: u64,
    pub records_in_stream: u64,
    pub put_records_calls: u64,
    pub injected_failures: u64,
}

impl LoadReport {
    pub fn requests_per_s(&self) -> f64 {
        self.collector.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn print(&self) {
        let c = &self.collector;
        println!(
            "    {} requests in {:.1} s: {:.0} requests/s, {:.0} events/s; latency {}",
            c.requests,
            self.elapsed.as_secs_f64(),
            self.requests_per_s(),
            c.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9),
            c.latency
        );
        println!(
            "    accepted {} ({} refused answers, retried); stream: {} records in {} PutRecords calls, {:.1} events/record; {} entries refused by the fault double",
            c.accepted,
            c.refused,
            self.records_in_stream,
            self.put_records_calls,
            self.lines_in_stream as f64 / self.records_in_stream.max(1) as f64,
            self.injected_failures
        );
        println!(
            "    valid events sent {}, distinct in the stream {}, lines in the stream {}",
            self.valid_events, self.distinct_in_stream, self.lines_in_stream
        );
    }

    /// Broken promises, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.distinct_in_stream != self.valid_events {
            f.push(format!(
                "{} valid events sent, {} distinct in the stream",
                self.valid_events, self.distinct_in_stream
            ));
        }
        if self.collector.rejected > 0 {
            f.push(format!("{} valid events rejected", self.collector.rejected));
        }
        if self.cfg.put_failure_rate > 0.0 && self.injected_failures == 0 {
            f.push("the fault double refused nothing".into());
        }
        f
    }
}

/// Sets up fresh resources, runs the load, reads the stream back, tears down.
pub async fn run(aws: &SdkConfig, cfg: &LoadConfig) -> Result<LoadReport> {
    std::fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("creating {}", cfg.out_dir.display()))?;
    let topology =
        Topology::load_default()?.prefixed(&local_pipeline::topology::unique_prefix("load"));
    let resources = setup(aws, &topology).await?;
    let edge = local_pipeline::collector::start(
        aws,
        &resources,
        LocalCollectorOptions {
            key: loadgen::sinks::DEMO_APP,
            linger: LingerConfig {
                linger: cfg.linger,
                keys: u64::from(topology.stream.local_shards) * 8,
            },
            put_failure_rate: cfg.put_failure_rate,
        },
    )
    .await?;
    let scenario = ScenarioConfig {
        seed: cfg.seed,
        viewers: cfg.viewers,
        events: Some(cfg.events),
        duration_s: None,
        // A player sends what it has about every heartbeat: 1-2 events a request.
        pack_linger_s: 10.0,
        retry_rate: 0.0,
        late_rate: 0.0,
        rate: cfg.rate,
        // Sent unpaced, the simulated span ends now: no event_time in the future.
        start_time_ms: chrono::Utc::now().timestamp_millis()
            - (cfg.events as f64 / cfg.rate * 1000.0) as i64,
        ..Default::default()
    };
    let outputs = Outputs {
        collector_url: Some(edge.url.clone()),
        manifest: Some(cfg.out_dir.join("manifest.json")),
        ..Default::default()
    };
    let opts = RunOptions {
        pace: false,
        progress: false,
        ..Default::default()
    };
    let started = Instant::now();
    let run = loadgen::runner::run(scenario, outputs, opts).await?;
    let elapsed = started.elapsed();
    let written = edge.written.clone();
    edge.shutdown().await;
    let collector = run
        .collector
        .context("the run went through the collector")?;
    let (distinct, lines, records) = read_stream(aws, &resources.stream_name).await?;
    teardown(aws, &resources).await?;
    Ok(LoadReport {
        cfg: cfg.clone(),
        collector,
        elapsed,
        valid_events: run.summary.valid_lines,
        distinct_in_stream: distinct,
        lines_in_stream: lines,
        records_in_stream: records,
        put_records_calls: written.put_records_calls.load(Ordering::Relaxed),
        injected_failures: written.injected_failures.load(Ordering::Relaxed),
    })
}

/// (distinct event_ids, lines, records) of the whole stream.
async fn read_stream(aws: &SdkConfig, stream: &str) -> Result<(u64, u64, u64)> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        event_id: &'a str,
    }
    let records =
        testkit::inspect::stream_records(&aws_sdk_kinesis::Client::new(aws), stream).await?;
    let (mut ids, mut lines) = (HashSet::new(), 0u64);
    for r in &records {
        for line in r.data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let id: Id = serde_json::from_slice(line).context("a stream line")?;
            ids.insert(id.event_id.to_string());
            lines += 1;
        }
    }
    Ok((ids.len() as u64, lines, records.len() as u64))
}
