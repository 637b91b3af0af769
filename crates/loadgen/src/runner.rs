//! The paced run behind `playback-loadgen`: pulls records from the scenario,
//! sends each when its simulated time comes (or at once), writes the files
//! and the manifest, and reports.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::time::Instant;

use crate::config::ScenarioConfig;
use crate::error::LoadgenError;
use crate::faults::KinesisOutage;
use crate::manifest::{Ledger, Summary};
use crate::records::RecordStream;
use crate::sinks::{
    CollectorApi, DeliveryStats, FileSink, KinesisApi, KinesisEntry, KinesisEventFile, Latency,
    Outage, Producer, ProducerOptions, RetryPolicy, SqsApi, SrePacker, WindowMode,
};

/// Where the records go (any combination; at least one).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub stream: Option<String>,
    pub out_file: Option<PathBuf>,
    pub kinesis_event_file: Option<PathBuf>,
    pub kinesis_event_window: Option<WindowMode>,
    /// Length of that window, seconds (0 = the default, 10).
    pub kinesis_event_window_s: u32,
    pub manifest: Option<PathBuf>,
    pub quality_queue_url: Option<String>,
    /// Players POST each record to the collector (`/v1/events`) with this
    /// app key, instead of writing the stream and the queue themselves.
    pub collector_url: Option<String>,
    pub collector_app: Option<(String, String, String)>,
}

impl Outputs {
    pub fn is_empty(&self) -> bool {
        self.stream.is_none()
            && self.collector_url.is_none()
            && self.out_file.is_none()
            && self.kinesis_event_file.is_none()
            && self.manifest.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Send each record when its simulated time comes (else as fast as possible).
    pub pace: bool,
    pub progress: bool,
    pub retry: RetryPolicy,
    /// Longest a record waits in a PutRecords batch (or a line in an SQS
    /// body) while pacing.
    pub max_batch_delay: Duration,
    /// Records not delivered this long after they were produced are given up.
    pub record_ttl: Duration,
    /// The stream refuses writes for a span of the run.
    pub kinesis_outage: Option<KinesisOutage>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            pace: true,
            progress: true,
            retry: RetryPolicy::default(),
            max_batch_delay: Duration::from_millis(100),
            record_ttl: ProducerOptions::default().record_ttl,
            kinesis_outage: None,
        }
    }
}

impl RunOptions {
    fn producer(&self) -> ProducerOptions {
        ProducerOptions {
            policy: self.retry,
            linger: self.max_batch_delay,
            record_ttl: self.record_ttl,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub summary: Summary,
    pub elapsed: Duration,
    pub target_rate: f64,
    pub late_hours: f64,
    /// The scenario's simulated start (epoch ms).
    pub start_time_ms: i64,
    pub kinesis: Option<DeliveryStats>,
    pub sqs: Option<DeliveryStats>,
    pub collector: Option<CollectorReport>,
    /// PutRecords calls refused by the injected outage.
    pub outage_refused_calls: Option<u64>,
    pub interrupted: bool,
    pub outputs: Outputs,
}

impl RunReport {
    /// Lines sent per wall-clock second.
    pub fn achieved_rate(&self) -> f64 {
        self.summary.lines as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Records (Kinesis), messages (SQS) and requests (collector) given up on.
    pub fn undelivered(&self) -> u64 {
        let collector = self.collector.as_ref().map(|c| &c.delivery);
        [self.kinesis.as_ref(), self.sqs.as_ref(), collector]
            .into_iter()
            .flatten()
            .map(|s| s.undelivered)
            .sum()
    }
}

/// What the players' requests to the collector saw.
#[derive(Debug, Clone)]
pub struct CollectorReport {
    pub delivery: DeliveryStats,
    /// Requests answered (any status), events the collector accepted and rejected.
    pub requests: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Answers other than 200 (retried if 5xx or 429).
    pub refused: u64,
    pub latency: Latency,
}

impl CollectorReport {
    /// `N requests, A events accepted, R rejected, F refused answers`.
    pub fn answers(&self) -> String {
        format!(
            "{} requests, {} events accepted, {} rejected, {} refused answers",
            self.requests, self.accepted, self.rejected, self.refused
        )
    }
}

fn region() -> String {
    std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into())
}

fn progress_bar(cfg: &ScenarioConfig, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let (len, unit) = match (cfg.events, cfg.duration_s) {
        (Some(n), _) => (n, "events"),
        (None, Some(d)) => (d.ceil() as u64, "sim s"),
        (None, None) => (0, "events"),
    };
    let bar = ProgressBar::new(len);
    let template =
        format!("{{spinner}} {{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Runs a scenario to its end (or Ctrl-C) and returns what happened.
pub async fn run(
    cfg: ScenarioConfig,
    outputs: Outputs,
    opts: RunOptions,
) -> Result<RunReport, LoadgenError> {
    let records = RecordStream::new(cfg.clone())?;
    let mut ledger = Ledger::new(outputs.manifest.is_some());
    // Endpoint (`AWS_ENDPOINT_URL`), region and credentials from the
    // environment, loaded once for both producers.
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let started = Instant::now();
    let refused = Arc::new(AtomicU64::new(0));
    let kinesis = match &outputs.stream {
        Some(s) => {
            let api = KinesisApi::new(&aws, s);
            Some(match opts.kinesis_outage {
                Some(w) => {
                    let api = Outage::kinesis(api, w, started.into_std(), refused.clone()).await;
                    Producer::spawn(api, opts.producer())
                }
                None => Producer::spawn(api, opts.producer()),
            })
        }
        None => None,
    };
    let collector_api = match &outputs.collector_url {
        Some(url) => {
            let app = outputs.collector_app.clone().unwrap_or_else(|| {
                let (a, k, s) = crate::sinks::DEMO_APP;
                (a.into(), k.into(), s.into())
            });
            Some(CollectorApi::new(url, (&app.0, &app.1, &app.2))?)
        }
        None => None,
    };
    let tally = collector_api.as_ref().map(|c| c.tally.clone());
    let collector = collector_api.map(|api| Producer::spawn(api, opts.producer()));
    let sqs = outputs
        .quality_queue_url
        .as_ref()
        .map(|q| Producer::spawn(SqsApi::new(&aws, q), opts.producer()));
    let mut packer = SrePacker::default();
    let mut file = outputs
        .out_file
        .as_ref()
        .map(FileSink::create)
        .transpose()?;
    let stream_name = outputs.stream.as_deref().unwrap_or("playback-events");
    let mut event_file = outputs
        .kinesis_event_file
        .as_ref()
        .map(|p| {
            let f =
                KinesisEventFile::create(p, stream_name, &region(), outputs.kinesis_event_window)?;
            Ok::<_, LoadgenError>(match outputs.kinesis_event_window_s {
                0 => f,
                s => f.with_window_ms(s as i64 * 1_000),
            })
        })
        .transpose()?;
    let bar = progress_bar(&cfg, opts.progress);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_on_signal = stop.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop_on_signal.store(true, Ordering::Relaxed);
        }
    });
    let mut interrupted = false;
    let mut last_tick = started;
    for em in records {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        if kinesis.as_ref().is_some_and(Producer::failed)
            || sqs.as_ref().is_some_and(Producer::failed)
            || collector.as_ref().is_some_and(Producer::failed)
        {
            break;
        }
        if opts.pace {
            let offset = (em.record.emit_ms - cfg.start_time_ms).max(0) as u64;
            let due = started + Duration::from_millis(offset);
            let now = Instant::now();
            if due > now {
                let waited = packer.age().unwrap_or_default();
                if due - now + waited > opts.max_batch_delay {
                    if let (Some(q), Some(body)) = (&sqs, packer.take()) {
                        q.send(body);
                    }
                }
                tokio::time::sleep_until(due).await;
            }
        }
        ledger.add(&em);
        if let Some(f) = &mut file {
            f.write(&em.record)?;
        }
        if let Some(f) = &mut event_file {
            f.write(&em.record)?;
        }
        if let Some(k) = &kinesis {
            k.send(KinesisEntry::from(&em.record));
        }
        if let Some(c) = &collector {
            c.send(KinesisEntry::from(&em.record));
        }
        if let Some(q) = &sqs {
            for (body, entry) in em.lines_with_entries() {
                if entry.sre && !entry.duplicate {
                    if let Some(full) = packer.push(body) {
                        q.send(full);
                    }
                }
            }
        }
        let s = &ledger.summary;
        if s.records & 0xff == 0 || last_tick.elapsed() > Duration::from_millis(200) {
            last_tick = Instant::now();
            bar.set_position(match cfg.events {
                Some(_) => s.events,
                None => ((em.record.emit_ms - cfg.start_time_ms).max(0) / 1_000) as u64,
            });
            let (k, backlog) = kinesis
                .as_ref()
                .map(|k| (k.stats(), k.backlog()))
                .unwrap_or_default();
            bar.set_message(format!(
                "{} records, {:.0} ev/s, retried {}, throttled {}, buffered {backlog}",
                s.records,
                s.lines as f64 / started.elapsed().as_secs_f64().max(1e-3),
                k.retried_entries,
                k.throttled_entries
            ));
        }
    }
    signal.abort();
    if let (Some(q), Some(body)) = (&sqs, packer.take()) {
        q.send(body);
    }
    if kinesis.as_ref().is_some_and(|k| k.backlog() > 0) {
        bar.set_message("delivering what the stream has not taken yet");
    }
    let kinesis = match kinesis {
        Some(k) => Some(k.finish().await?),
        None => None,
    };
    let sqs = match sqs {
        Some(q) => Some(q.finish().await?),
        None => None,
    };
    let collector = match (collector, tally) {
        (Some(c), Some(t)) => {
            let delivery = c.finish().await?;
            let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            Some(CollectorReport {
                delivery,
                requests: n(&t.requests),
                accepted: n(&t.accepted),
                rejected: n(&t.rejected),
                refused: n(&t.refused),
                latency: t.latency(),
            })
        }
        _ => None,
    };
    if let Some(f) = file {
        f.finish()?;
    }
    if let Some(f) = event_file {
        f.finish()?;
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let manifest = ledger.into_manifest(cfg.clone());
    if let Some(path) = &outputs.manifest {
        manifest.write_to(path)?;
    }
    Ok(RunReport {
        summary: manifest.summary,
        elapsed,
        target_rate: cfg.rate,
        late_hours: cfg.late_hours,
        start_time_ms: cfg.start_time_ms,
        outage_refused_calls: opts.kinesis_outage.map(|_| refused.load(Ordering::Relaxed)),
        kinesis,
        sqs,
        collector,
        interrupted,
        outputs,
    })
}

fn stats_line(s: &DeliveryStats) -> String {
    format!(
        "calls {}, delivered {}, retried entries {}, throttled {}, failed calls {}, undelivered {} (expired {}); \
         buffered at most {}, longest wait {:.1} s",
        s.calls,
        s.delivered,
        s.retried_entries,
        s.throttled_entries,
        s.failed_calls,
        s.undelivered,
        s.expired,
        s.max_backlog,
        s.max_wait_ms as f64 / 1_000.0
    )
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        let kinds: Vec<String> = s
            .malformed_by_kind
            .iter()
            .map(|(k, n)| format!("{} {n}", k.as_str()))
            .collect();
        let sim_s = s
            .last_emit_ms
            .map_or(0.0, |b| (b - self.start_time_ms) as f64 / 1_000.0);
        let done = if self.interrupted {
            " (interrupted)"
        } else {
            ""
        };
        writeln!(f, "playback-loadgen summary{done}")?;
        writeln!(
            f,
            "  events      {} generated, {} valid, {} malformed lines [{}]",
            s.events,
            s.valid_lines,
            s.malformed_lines,
            kinds.join(", ")
        )?;
        writeln!(
            f,
            "  records     {} ({} bytes), re-sent {} records / {} duplicate lines",
            s.records, s.bytes, s.duplicate_records, s.duplicate_lines
        )?;
        writeln!(
            f,
            "  late        {} heartbeats {} h old; SRE-queue lines {}",
            s.late_lines, self.late_hours, s.sre_lines
        )?;
        writeln!(
            f,
            "  elapsed     {:.1} s wall, {:.1} s simulated; achieved {:.0} events/s (target {})",
            self.elapsed.as_secs_f64(),
            sim_s,
            self.achieved_rate(),
            self.target_rate
        )?;
        if let Some(k) = &self.kinesis {
            writeln!(f, "  kinesis     {}", stats_line(k))?;
        }
        if let Some(n) = self.outage_refused_calls {
            writeln!(
                f,
                "  outage      {n} PutRecords calls refused while the stream was down"
            )?;
        }
        if let Some(q) = &self.sqs {
            writeln!(f, "  sqs         {}", stats_line(q))?;
        }
        if let Some(c) = &self.collector {
            writeln!(
                f,
                "  collector   {}; latency {}; {}",
                c.answers(),
                c.latency,
                stats_line(&c.delivery)
            )?;
        }
        let o = &self.outputs;
        for (name, path) in [
            ("out-file", &o.out_file),
            ("event file", &o.kinesis_event_file),
            ("manifest", &o.manifest),
        ] {
            if let Some(p) = path {
                writeln!(f, "  {name:<11} {}", p.display())?;
            }
        }
        Ok(())
    }
}
