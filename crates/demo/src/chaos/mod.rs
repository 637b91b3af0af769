//! `make chaos`: the demo's scenario through the local runner while a driver
//! SIGKILLs it N times (one kill in the middle of a window flush, one in the
//! middle of a lake landing, the rest at random moments) and restarts it on
//! the same state directory. Then every path is checked against the load
//! generator's manifest and against a clean recomputation from the lake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use local_pipeline::{Checkpoints, LocalOverrides, Topology};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

mod verify;
use verify::verify;

#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// The runner: `chaos-runner`, next to this binary.
    pub runner: PathBuf,
    pub kills: usize,
    pub duration_s: f64,
    pub rate: f64,
    pub viewers: u32,
    pub seed: u64,
    pub out_dir: PathBuf,
}

/// What the run did and found; `failures()` lists what broke a promise.
#[derive(Debug, Default)]
pub struct ChaosReport {
    pub kills: Vec<String>,
    pub restarts: usize,
    pub valid_events: usize,
    pub lost: usize,
    pub royalty_events_paid: i64,
    pub royalty_double_counted: i64,
    pub royalty_minutes_off: f64,
    pub dlq_expected: usize,
    /// Per consumer: (distinct malformed events in the DLQ, letters in all).
    pub dlq: BTreeMap<String, (usize, usize)>,
    pub alerts: usize,
    pub duplicate_alerts: usize,
    pub window_totals_off: usize,
    pub features_off: usize,
    pub incident_alerted: bool,
}

impl ChaosReport {
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let mut need = |ok: bool, what: String| {
            if !ok {
                f.push(what);
            }
        };
        need(self.lost == 0, format!("{} valid events lost", self.lost));
        need(
            self.royalty_double_counted == 0 && self.royalty_minutes_off.abs() < 0.01,
            format!(
                "royalty: {} events double counted, minutes off by {:.3}",
                self.royalty_double_counted, self.royalty_minutes_off
            ),
        );
        for (consumer, (distinct, _)) in &self.dlq {
            need(
                *distinct == self.dlq_expected,
                format!(
                    "{consumer}: {distinct} of {} malformed events in the DLQ",
                    self.dlq_expected
                ),
            );
        }
        need(
            self.dlq.len() == 2,
            "a consumer sent no dead letters".into(),
        );
        need(
            self.duplicate_alerts == 0,
            format!("{} duplicate alerts", self.duplicate_alerts),
        );
        need(self.incident_alerted, "the incident raised no alert".into());
        need(
            self.window_totals_off == 0,
            format!("{} windows differ from the lake's", self.window_totals_off),
        );
        need(
            self.features_off == 0,
            format!(
                "{} viewers' features differ from a clean fold",
                self.features_off
            ),
        );
        need(
            self.kills.len() >= 5,
            format!("only {} kills", self.kills.len()),
        );
        f
    }

    pub fn print(&self) {
        println!(
            "\n==> Chaos: {} kills, {} restarts",
            self.kills.len(),
            self.restarts
        );
        for (i, k) in self.kills.iter().enumerate() {
            println!("    kill {}: {k}", i + 1);
        }
        println!(
            "    valid events sent {}, lost {}",
            self.valid_events, self.lost
        );
        println!(
            "    royalty: {} events paid, double counted {}, minutes off {:.3}",
            self.royalty_events_paid, self.royalty_double_counted, self.royalty_minutes_off
        );
        for (c, (distinct, all)) in &self.dlq {
            println!(
                "    DLQ {c}: {distinct} distinct malformed events of {} sent ({all} letters with redeliveries)",
                self.dlq_expected
            );
        }
        println!(
            "    alerts {} (duplicates {}), incident alerted: {}; windows differing from the lake {}; viewers' features differing from a clean fold {}",
            self.alerts, self.duplicate_alerts, self.incident_alerted, self.window_totals_off, self.features_off
        );
    }
}

/// The demo's scenario: an incident on t0001 / us-east, a bad build, producer
/// retries and late events.
fn scenario(cfg: &ChaosConfig) -> loadgen::ScenarioConfig {
    let incident_start = (cfg.duration_s / 4.0).round();
    loadgen::ScenarioConfig {
        seed: cfg.seed,
        viewers: cfg.viewers,
        titles: 30,
        rate: cfg.rate,
        start_time_ms: chrono::Utc::now().timestamp_millis(),
        duration_s: Some(cfg.duration_s),
        pack_linger_s: 2.0,
        incident: Some(loadgen::Incident {
            title_id: "t0001".into(),
            region: "us-east".into(),
            start_s: incident_start,
            duration_s: (cfg.duration_s / 2.0).round(),
            stall_fraction: 0.3,
        }),
        bad_firmware: Some(loadgen::BadFirmware {
            app_version: "5.4.0-beta".into(),
            rate: 0.2,
        }),
        retry_rate: 0.01,
        late_rate: 0.005,
        ..Default::default()
    }
}

pub fn topology(prefix: &str) -> Result<Topology> {
    Ok(Topology::load_default()?
        .prefixed(prefix)
        .with_overrides(&LocalOverrides::quick()))
}

struct Runner {
    child: Child,
    points: mpsc::UnboundedReceiver<String>,
}

fn start_runner(cfg: &ChaosConfig, prefix: &str, state: &Path, log: &Path) -> Result<Runner> {
    let mut child = Command::new(&cfg.runner)
        .args(["--prefix", prefix, "--state-dir"])
        .arg(state)
        .env("PLAYBACK_CHAOS_POINTS", "window-flush,lake-landing")
        .env("PLAYBACK_CHAOS_HOLD_MS", "400")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", cfg.runner.display()))?;
    let (tx, points) = mpsc::unbounded_channel();
    let stderr = child.stderr.take().context("runner stderr")?;
    let log = log.to_path_buf();
    tokio::spawn(async move {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .ok();
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(p) = line.strip_prefix("chaos-point ") {
                let _ = tx.send(p.to_string());
            }
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    Ok(Runner { child, points })
}

/// SIGKILL at `kind` (a chaos point, else after a random delay); the reason.
async fn kill_at(
    r: &mut Runner,
    kind: &str,
    spread_ms: u64,
    rng: &mut rand::rngs::StdRng,
) -> Result<String> {
    let what = if kind == "random" {
        let ms = rng.random_range(1_500..spread_ms.max(2_000));
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("at a random moment, {ms} ms after start")
    } else {
        let deadline = tokio::time::sleep(Duration::from_secs(45));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                p = r.points.recv() => match p {
                    Some(p) if p == kind => break format!("during a {kind} (flush written, checkpoint not)"),
                    Some(_) => continue,
                    None => bail!("the runner exited before a {kind}"),
                },
                _ = &mut deadline => bail!("no {kind} within 45 s"),
            }
        }
    };
    r.child.start_kill()?;
    r.child.wait().await?;
    Ok(format!("SIGKILL {what}"))
}

/// Every consumer's checkpoint at the stream's end and no window left open.
async fn drained(state: &Path, ends: &BTreeMap<String, String>) -> Result<bool> {
    let cps = Checkpoints::durable(state)?;
    for consumer in ["qoe-alerts", "session-features", "lake-firehose"] {
        for (shard, end) in ends {
            let at = cps.get(consumer, shard);
            if at
                .as_deref()
                .is_none_or(|s| local_pipeline::esm::cmp_seq(s, end).is_lt())
            {
                return Ok(false);
            }
            if cps.window(consumer, shard).is_some() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

pub async fn run(aws: &aws_config::SdkConfig, cfg: &ChaosConfig) -> Result<ChaosReport> {
    let prefix = local_pipeline::topology::unique_prefix("chaos");
    let t = topology(&prefix)?;
    let r = local_pipeline::setup(aws, &t).await?;
    let state = cfg.out_dir.join("state");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&cfg.out_dir)?;
    let log = cfg.out_dir.join("runner.log");
    let _ = std::fs::remove_file(&log);
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let mut runner = start_runner(cfg, &prefix, &state, &log)?;

    let manifest_path = cfg.out_dir.join("manifest.json");
    let load = tokio::spawn(loadgen::runner::run(
        scenario(cfg),
        loadgen::runner::Outputs {
            stream: Some(r.stream_name.clone()),
            manifest: Some(manifest_path.clone()),
            quality_queue_url: Some(r.quality_queue_url.clone()),
            ..Default::default()
        },
        loadgen::runner::RunOptions {
            progress: false,
            max_batch_delay: Duration::from_secs(1),
            ..Default::default()
        },
    ));
    let mut out = ChaosReport::default();
    let mut kinds = vec!["window-flush", "lake-landing"];
    kinds.resize(cfg.kills.max(5), "random");
    // Random kills spread over the load (and the drain after it).
    let spread_ms = (cfg.duration_s * 1_000.0 * 1.2 / kinds.len() as f64) as u64;
    for kind in kinds {
        let what = kill_at(&mut runner, kind, spread_ms, &mut rng).await?;
        println!(
            "    [{}] {what}; restarting",
            chrono::Utc::now().format("%H:%M:%S")
        );
        out.kills.push(what);
        runner = start_runner(cfg, &prefix, &state, &log)?;
        out.restarts += 1;
    }
    let sent = load.await??;
    println!(
        "==> load done ({} records); waiting for every checkpoint to reach the stream's end",
        sent.summary.records
    );
    let kinesis = aws_sdk_kinesis::Client::new(aws);
    let (ends, _) = testkit::inspect::stream_ends(&kinesis, &r.stream_name).await?;
    let started = Instant::now();
    while !drained(&state, &ends).await? {
        if started.elapsed() > Duration::from_secs(180) {
            bail!(
                "checkpoints did not reach the end of the stream in 180 s (see {})",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A graceful stop: the last lake buffers are already delivered.
    if let Some(pid) = runner.child.id() {
        tokio::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await?;
    }
    runner.child.wait().await?;
    let manifest = loadgen::Manifest::read_from(&manifest_path)?;
    verify(aws, &t, &r, &manifest, &mut out).await?;
    local_pipeline::teardown(aws, &r).await?;
    Ok(out)
}
