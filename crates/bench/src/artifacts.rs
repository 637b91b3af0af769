//! Release artifacts: the Lambda zips `make build` writes (size, contents, when
//! built) and the init time of each function's binary.
//!
//! Init time method: the x86_64 `--release` binary of the function runs
//! natively with the environment Lambda would give it (function settings,
//! region, dummy credentials) and `AWS_LAMBDA_RUNTIME_API` pointing at a TCP
//! listener of ours. The clock starts just before `spawn` and stops when the
//! runtime's first `GET /2018-06-01/runtime/invocation/next` connection
//! arrives: process start, dynamic loading, `main` (tracing, config, AWS SDK
//! config and clients) up to the runtime loop. The child is then killed.
//! A second figure runs without `AWS_LAMBDA_RUNTIME_API` and times the
//! process until it exits on the missing variable (the cheaper check the
//! issue suggests; it stops at the same point, minus the first connect).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::timing::median;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ZipInfo {
    pub function: String,
    pub path: String,
    pub bytes: u64,
    pub modified_utc: String,
    pub entries: Vec<(String, u64)>,
    pub uncompressed_bytes: u64,
}

fn utc(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

fn u16_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u64)
}

fn u32_at(b: &[u8], i: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as u64)
}

/// (name, uncompressed size) of every entry, from the zip's central directory.
pub fn zip_entries(b: &[u8]) -> Option<Vec<(String, u64)>> {
    let from = b.len().saturating_sub(65_557);
    let eocd = (from..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])?;
    let count = u16_at(b, eocd + 10)? as usize;
    let mut p = u32_at(b, eocd + 16)? as usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if b.get(p..p + 4)? != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let size = u32_at(b, p + 24)?;
        let (n, x, c) = (
            u16_at(b, p + 28)? as usize,
            u16_at(b, p + 30)? as usize,
            u16_at(b, p + 32)? as usize,
        );
        let name = String::from_utf8_lossy(b.get(p + 46..p + 46 + n)?).to_string();
        out.push((name, size));
        p += 46 + n + x + c;
    }
    Some(out)
}

/// Every `<dir>/<function>/bootstrap.zip`.
pub fn zips(dir: &Path) -> Vec<ZipInfo> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut fns: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    fns.sort();
    for f in fns {
        let zip = f.join("bootstrap.zip");
        let (Ok(meta), Ok(bytes)) = (std::fs::metadata(&zip), std::fs::read(&zip)) else {
            continue;
        };
        let entries = zip_entries(&bytes).unwrap_or_default();
        out.push(ZipInfo {
            function: f.file_name().unwrap_or_default().to_string_lossy().into(),
            path: zip.display().to_string(),
            bytes: meta.len(),
            modified_utc: meta.modified().map(utc).unwrap_or_default(),
            uncompressed_bytes: entries.iter().map(|e| e.1).sum(),
            entries,
        });
    }
    out
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InitInfo {
    pub function: String,
    pub binary: String,
    pub binary_bytes: u64,
    pub built_utc: String,
    pub runs: usize,
    /// Spawn -> first Runtime API connection (median, min, max), milliseconds.
    pub to_first_poll_ms: [f64; 3],
    /// Spawn -> exit without AWS_LAMBDA_RUNTIME_API (median), milliseconds.
    pub to_exit_without_api_ms: f64,
    pub exit_without_api: String,
}

/// The environment each function's `main` needs (its README / main.rs).
pub fn function_env(function: &str) -> Vec<(&'static str, String)> {
    let dlq = "https://sqs.us-east-1.amazonaws.com/123456789012/playback-poison-pills".to_string();
    match function {
        "qoe-alerts" => vec![
            ("WINDOWS_TABLE", "playback-qoe-windows".into()),
            ("ALERTS_TABLE", "playback-qoe-alerts".into()),
            ("POISON_DLQ_URL", dlq),
            (
                "ALERTS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:playback-qoe-alerts".into(),
            ),
        ],
        "session-features" => vec![
            ("FEATURES_TABLE", "playback-viewer-features".into()),
            ("POISON_DLQ_URL", dlq),
        ],
        "sre-buffer" => vec![
            ("SRE_TABLE", "playback-sre-signals".into()),
            ("POISON_DLQ_URL", dlq),
        ],
        _ => vec![],
    }
}

fn command(bin: &Path, function: &str, api: Option<&str>) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .envs(function_env(function))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(api) = api {
        c.env("AWS_LAMBDA_RUNTIME_API", api);
    }
    c
}

/// Spawn -> first connection to the fake Runtime API.
fn time_to_first_poll(bin: &Path, function: &str) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let api = listener.local_addr()?.to_string();
    let mut cmd = command(bin, function, Some(&api));
    let t0 = Instant::now();
    let mut child = cmd.spawn()?;
    let result = loop {
        match listener.accept() {
            Ok((mut conn, _)) => {
                let elapsed = t0.elapsed();
                conn.set_read_timeout(Some(Duration::from_millis(500)))?;
                let mut buf = [0u8; 256];
                let n = conn.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                break if head.contains("/runtime/invocation/next") {
                    Ok(elapsed)
                } else {
                    Err(anyhow::anyhow!("unexpected first request: {head:?}"))
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    break Err(anyhow::anyhow!(
                        "{function} exited before polling: {status}"
                    ));
                }
                if t0.elapsed() > Duration::from_secs(20) {
                    break Err(anyhow::anyhow!("{function}: no poll within 20 s"));
                }
                std::thread::sleep(Duration::from_micros(50));
            }
            Err(e) => break Err(e.into()),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Spawn -> exit, without AWS_LAMBDA_RUNTIME_API.
fn time_to_exit(bin: &Path, function: &str) -> anyhow::Result<(Duration, String)> {
    let mut cmd = command(bin, function, None);
    let t0 = Instant::now();
    let status = cmd.status()?;
    Ok((t0.elapsed(), status.to_string()))
}

pub fn init_time(bin_dir: &Path, function: &str, runs: usize) -> anyhow::Result<InitInfo> {
    let bin = bin_dir.join(function);
    let meta = std::fs::metadata(&bin).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e} (build with `cargo build --release -p {function}`)",
            bin.display()
        )
    })?;
    // One untimed run so the binary is in the page cache, as on a warm host.
    let _ = time_to_first_poll(&bin, function)?;
    let mut polls = Vec::with_capacity(runs);
    let mut exits = Vec::with_capacity(runs);
    let mut exit_status = String::new();
    for _ in 0..runs.max(1) {
        polls.push(time_to_first_poll(&bin, function)?.as_nanos() as u64);
        let (d, s) = time_to_exit(&bin, function)?;
        exits.push(d.as_nanos() as u64);
        exit_status = s;
    }
    polls.sort_unstable();
    exits.sort_unstable();
    let ms = |ns: u64| ns as f64 / 1e6;
    Ok(InitInfo {
        function: function.into(),
        binary: bin.display().to_string(),
        binary_bytes: meta.len(),
        built_utc: meta.modified().map(utc).unwrap_or_default(),
        runs: polls.len(),
        to_first_poll_ms: [
            ms(median(&polls)),
            ms(polls[0]),
            ms(*polls.last().unwrap_or(&0)),
        ],
        to_exit_without_api_ms: ms(median(&exits)),
        exit_without_api: exit_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) zip with one entry, built by hand.
    fn tiny_zip() -> Vec<u8> {
        let name = b"bootstrap";
        let data = b"hello";
        let mut z = Vec::new();
        // local header
        z.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04]);
        z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name);
        z.extend_from_slice(data);
        let cd = z.len();
        z.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02]);
        z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&[0; 12]);
        z.extend_from_slice(&0u32.to_le_bytes());
        z.extend_from_slice(name);
        let cd_len = z.len() - cd;
        z.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
        z.extend_from_slice(&(cd_len as u32).to_le_bytes());
        z.extend_from_slice(&(cd as u32).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z
    }

    #[test]
    fn reads_central_directory() {
        assert_eq!(
            zip_entries(&tiny_zip()),
            Some(vec![("bootstrap".to_string(), 5)])
        );
        assert_eq!(zip_entries(b"not a zip"), None);
    }
}
