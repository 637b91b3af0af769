//! The `playback-loadgen` command line (clap derive) and its translation into
//! a [`ScenarioConfig`], [`Outputs`] and [`RunOptions`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{BadFirmware, BadRelease, Incident, KinesisOutage, ScenarioConfig, Spike};
use crate::error::LoadgenError;
use crate::runner::{Outputs, RunOptions};
use crate::sinks::{RetryPolicy, WindowMode};

/// Generates realistic, seeded playback telemetry and sends it to Kinesis
/// (and/or files), keeping a manifest of exactly what was sent.
#[derive(Debug, Clone, Parser)]
#[command(name = "playback-loadgen", version, about, long_about = None)]
pub struct Cli {
    /// Kinesis stream to PutRecords to (endpoint, region, credentials from the AWS_* env).
    #[arg(long)]
    pub stream: Option<String>,
    /// Base scenario as JSON (a serialised ScenarioConfig); the flags below override it.
    #[arg(long, value_name = "PATH")]
    pub scenario_file: Option<PathBuf>,
    /// Simulated viewers [default: 1000].
    #[arg(long)]
    pub viewers: Option<u32>,
    /// Titles in the catalogue, t0001 most popular [default: 200].
    #[arg(long)]
    pub titles: Option<u32>,
    /// Target events per second [default: 100].
    #[arg(long)]
    pub rate: Option<f64>,
    /// Simulated seconds to run [default: 60].
    #[arg(long, conflicts_with = "events")]
    pub duration_s: Option<f64>,
    /// Stop after this many generated events (producer re-sends not counted).
    #[arg(long)]
    pub events: Option<u64>,
    /// Random seed: same seed and flags, same records [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Pack a viewer's events into records of at most this many bytes; 0 = one event per record [default: 5000].
    #[arg(long)]
    pub pack_bytes: Option<usize>,
    /// Flush a viewer's pack at most this many simulated seconds after its first event; 0 = no limit [default: 10].
    #[arg(long)]
    pub pack_linger_s: Option<f64>,
    /// Pack across viewers into this many partition buckets (an ingest edge); 0 = per viewer [default: 0].
    #[arg(long)]
    pub pack_buckets: Option<u32>,
    /// Simulated start, RFC 3339 (e.g. 2026-11-23T10:00:00Z) or `now` [default: now].
    #[arg(long, value_parser = parse_start_time)]
    pub start_time: Option<i64>,
    /// Seconds between a session's heartbeats [default: 10].
    #[arg(long)]
    pub heartbeat_s: Option<u32>,
    /// Mean session length, seconds [default: 1500, an episode; ~240 for music].
    #[arg(long)]
    pub mean_session_s: Option<f64>,
    /// Stall fraction of ordinary playback [default: 0.005].
    #[arg(long)]
    pub baseline_stall: Option<f64>,
    /// Rebuffering incident on one title x region.
    #[arg(long, value_name = "TITLE:REGION:START_S:DURATION_S:STALL_FRACTION", value_parser = parse_incident)]
    pub incident: Option<Incident>,
    /// An app build (or `*`) emitting malformed events at this rate.
    #[arg(long, value_name = "VERSION:RATE", value_parser = parse_bad_firmware)]
    pub bad_firmware: Option<BadFirmware>,
    /// A build failing on one platform in one region: starts fail at
    /// FAILURE_RATE (viewers retry), sessions crash, survivors rebuffer.
    #[arg(
        long,
        value_name = "VERSION:PLATFORM:REGION:START_S:DURATION_S:FAILURE_RATE",
        value_parser = parse_bad_release
    )]
    pub bad_release: Option<BadRelease>,
    /// The stream refuses PutRecords from START_S (wall clock, after the run
    /// starts) for DURATION_S; the producer buffers and retries, SQS goes on.
    #[arg(long, value_name = "START_S:DURATION_S", value_parser = parse_kinesis_outage, requires = "stream")]
    pub kinesis_outage: Option<KinesisOutage>,
    /// Give up on records not delivered this long after they were produced.
    #[arg(long, default_value_t = 600)]
    pub record_ttl_s: u64,
    /// Fraction of records the producer re-sends (duplicate event_ids) [default: 0].
    #[arg(long)]
    pub retry_rate: Option<f64>,
    /// Fraction of heartbeats sent late_hours after their event time [default: 0].
    #[arg(long)]
    pub late_rate: Option<f64>,
    /// Age of late heartbeats, hours [default: 3].
    #[arg(long)]
    pub late_hours: Option<f64>,
    /// Rate spike: multiply the rate by FACTOR for DURATION_S from START_S.
    #[arg(long, value_name = "START_S:DURATION_S:FACTOR", value_parser = parse_spike)]
    pub spike: Option<Spike>,
    /// Also write the records as JSON lines {"partition_key","data_base64"}.
    #[arg(long, value_name = "PATH")]
    pub out_file: Option<PathBuf>,
    /// Also write the records as one Lambda KinesisEvent ({"Records":[...]}).
    #[arg(long, value_name = "PATH")]
    pub kinesis_event_file: Option<PathBuf>,
    /// Add tumbling-window fields to the event file (for qoe-alerts).
    #[arg(long, value_enum, requires = "kinesis_event_file")]
    pub kinesis_event_window: Option<WindowMode>,
    /// Length of that window, seconds (pipeline.json's qoe-alerts tumbling_window_s).
    #[arg(long, default_value_t = 10, requires = "kinesis_event_window")]
    pub kinesis_event_window_s: u32,
    /// Write the ground-truth manifest (JSON) here.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Write the title catalogue (the lake's `playback.titles`, Parquet) here.
    #[arg(long, value_name = "FILE")]
    pub catalogue_out: Option<PathBuf>,
    /// Also send playback-quality events to this SQS queue (SendMessageBatch).
    #[arg(long, value_name = "URL")]
    pub quality_queue_url: Option<String>,
    /// Players POST their records to this collector (`http://127.0.0.1:PORT/v1/events`)
    /// instead of writing Kinesis and SQS with AWS credentials.
    #[arg(long, value_name = "URL", conflicts_with_all = ["stream", "quality_queue_url"])]
    pub collector_url: Option<String>,
    /// The app key players present: APP:KID:KEY (default: the local demo key).
    #[arg(long, value_name = "APP:KID:KEY", requires = "collector_url")]
    pub collector_key: Option<String>,
    /// Do not pace: send everything as fast as possible.
    #[arg(long)]
    pub as_fast_as_possible: bool,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Attempts per batch entry (the first included) before giving up.
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
}

/// `APP:KID:KEY`.
fn parse_key(s: &str) -> Result<(String, String, String), LoadgenError> {
    match s.splitn(3, ':').collect::<Vec<_>>()[..] {
        [a, k, key] if !a.is_empty() && !k.is_empty() && !key.is_empty() => {
            Ok((a.into(), k.into(), key.into()))
        }
        _ => Err(LoadgenError::spec(
            "--collector-key",
            s,
            "expected APP:KID:KEY",
        )),
    }
}

fn spec_message(e: LoadgenError) -> String {
    match e {
        LoadgenError::BadSpec { msg, .. } => msg,
        other => other.to_string(),
    }
}

fn parse_incident(s: &str) -> Result<Incident, String> {
    s.parse().map_err(spec_message)
}

fn parse_bad_firmware(s: &str) -> Result<BadFirmware, String> {
    s.parse().map_err(spec_message)
}

fn parse_spike(s: &str) -> Result<Spike, String> {
    s.parse().map_err(spec_message)
}

fn parse_bad_release(s: &str) -> Result<BadRelease, String> {
    s.parse().map_err(spec_message)
}

fn parse_kinesis_outage(s: &str) -> Result<KinesisOutage, String> {
    s.parse().map_err(spec_message)
}

/// RFC 3339 (any offset) or `now`, to epoch millis.
pub fn parse_start_time(s: &str) -> Result<i64, String> {
    if s.eq_ignore_ascii_case("now") {
        return Ok(chrono::Utc::now().timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("expected RFC 3339 like 2026-11-23T10:00:00Z ({e})"))
}

impl Cli {
    /// The scenario: the file's (or the defaults, starting now), then the flags.
    pub fn scenario(&self) -> Result<ScenarioConfig, LoadgenError> {
        let mut c = match &self.scenario_file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| LoadgenError::io(p, e))?;
                serde_json::from_str(&text)
                    .map_err(|e| LoadgenError::Config(format!("{}: {e}", p.display())))?
            }
            None => ScenarioConfig {
                start_time_ms: chrono::Utc::now().timestamp_millis(),
                ..ScenarioConfig::default()
            },
        };
        macro_rules! set {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field.clone() {
                    c.$field = v;
                }
            )*};
        }
        set!(
            viewers,
            titles,
            rate,
            seed,
            pack_bytes,
            pack_linger_s,
            pack_buckets,
            heartbeat_s,
            mean_session_s,
            baseline_stall
        );
        set!(retry_rate, late_rate, late_hours);
        if let Some(t) = self.start_time {
            c.start_time_ms = t;
        }
        if let Some(d) = self.duration_s {
            c.duration_s = Some(d);
            c.events = None;
        }
        if let Some(n) = self.events {
            c.events = Some(n);
            c.duration_s = None;
        }
        if self.incident.is_some() {
            c.incident = self.incident.clone();
        }
        if self.bad_firmware.is_some() {
            c.bad_firmware = self.bad_firmware.clone();
        }
        if self.spike.is_some() {
            c.spike = self.spike.clone();
        }
        if self.bad_release.is_some() {
            c.bad_release = self.bad_release.clone();
        }
        c.validate()?;
        Ok(c)
    }

    pub fn outputs(&self) -> Result<Outputs, LoadgenError> {
        let o = Outputs {
            stream: self.stream.clone(),
            out_file: self.out_file.clone(),
            kinesis_event_file: self.kinesis_event_file.clone(),
            kinesis_event_window: self.kinesis_event_window,
            kinesis_event_window_s: self.kinesis_event_window_s,
            manifest: self.manifest.clone(),
            quality_queue_url: self.quality_queue_url.clone(),
            collector_url: self.collector_url.clone(),
            collector_app: self.collector_key.as_deref().map(parse_key).transpose()?,
        };
        if o.is_empty() {
            return Err(LoadgenError::Config(
                "nothing to do: give --stream, --collector-url, --out-file, --kinesis-event-file, --manifest or --catalogue-out"
                    .into(),
            ));
        }
        Ok(o)
    }

    pub fn run_options(&self) -> Result<RunOptions, LoadgenError> {
        if self.max_attempts == 0 {
            return Err(LoadgenError::Config(
                "--max-attempts must be at least 1".into(),
            ));
        }
        Ok(RunOptions {
            pace: !self.as_fast_as_possible,
            progress: !self.no_progress,
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                ..RetryPolicy::default()
            },
            max_batch_delay: Duration::from_millis(100),
            record_ttl: Duration::from_secs(self.record_ttl_s.max(1)),
            kinesis_outage: self.kinesis_outage,
        })
    }
}
