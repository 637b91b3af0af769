//! Benchmark inputs, made by the load generator: the scenario files of
//! bench/inputs/ turned into Lambda event files (`KinesisEventFile`, the writer
//! behind `playback-loadgen --kinesis-event-file`) and into stream records.

use std::path::{Path, PathBuf};

use anyhow::Context;
use loadgen::sinks::{KinesisEventFile, WindowMode};
use loadgen::{Generated, ScenarioConfig};
use playback_domain::Clock;

/// The stream name and region the event files claim (loadgen's defaults).
pub const STREAM: &str = "playback-events";
pub const REGION: &str = "us-east-1";

/// A scenario file of bench/inputs/ (a loadgen `ScenarioConfig` as JSON).
pub fn load_scenario(path: &Path) -> anyhow::Result<ScenarioConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let cfg: ScenarioConfig =
        serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(cfg)
}

/// A generated Lambda event file and what it holds.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub records: usize,
    /// Lines (events) in all records, valid or not.
    pub events: usize,
    /// Lines the manifest marks invalid (become dead letters).
    pub malformed: usize,
    /// Validation clock: one minute after the last emit (as the tests do).
    pub clock: Clock,
    /// Bytes of the record payloads (before base64).
    pub payload_bytes: usize,
}

/// Writes the records of `run` as a Lambda event file (`window` for the
/// tumbling-window shape of qoe-alerts) and reads it back.
pub fn write_event_file(
    run: &Generated,
    path: &Path,
    window: Option<WindowMode>,
) -> anyhow::Result<EventFile> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = KinesisEventFile::create(path, STREAM, REGION, window)?;
    for r in &run.records {
        file.write(r)?;
    }
    let records = file.finish()? as usize;
    let bytes = std::fs::read(path)?;
    Ok(EventFile {
        path: path.to_path_buf(),
        bytes,
        records,
        events: run.manifest.lines.len(),
        malformed: run.manifest.malformed_lines() as usize,
        clock: clock_of(run),
        payload_bytes: run.records.iter().map(|r| r.data.len()).sum(),
    })
}

/// The clock the manifest's validity assumes: after the last emit.
pub fn clock_of(run: &Generated) -> Clock {
    let last = run.records.iter().map(|r| r.emit_ms).max().unwrap_or(0);
    Clock::at(last + 60_000)
}

/// The `playback-loadgen` command line that writes the same event file.
pub fn equivalent_cli(scenario: &Path, out: &Path, window: Option<WindowMode>) -> String {
    let w = match window {
        None => String::new(),
        Some(WindowMode::Open) => " --kinesis-event-window open".into(),
        Some(WindowMode::Final) => " --kinesis-event-window final".into(),
    };
    format!(
        "cargo run --release -p loadgen -- --scenario-file {} --as-fast-as-possible --no-progress --kinesis-event-file {}{w}",
        scenario.display(),
        out.display()
    )
}
