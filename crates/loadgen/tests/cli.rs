//! The command line: flags into a scenario, one-line errors, and an
//! offline run to files.

use clap::error::ErrorKind;
use clap::Parser;
use loadgen::cli::Cli;
use loadgen::runner::{run, RunOptions};
use loadgen::sinks::read_records_file;
use loadgen::Manifest;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("playback-loadgen").chain(args.iter().copied()))
}

#[test]
fn flags_set_the_scenario() {
    let cli = parse(&[
        "--stream",
        "playback-events",
        "--viewers",
        "500",
        "--titles",
        "50",
        "--rate",
        "250",
        "--events",
        "1000",
        "--seed",
        "7",
        "--pack-bytes",
        "0",
        "--start-time",
        "2026-11-23T10:00:00Z",
        "--heartbeat-s",
        "5",
        "--incident",
        "t0002:eu-west:60:120:0.3",
        "--bad-firmware",
        "5.4.0-beta:0.2",
        "--retry-rate",
        "0.01",
        "--late-rate",
        "0.02",
        "--late-hours",
        "6",
        "--spike",
        "30:10:5",
        "--as-fast-as-possible",
        "--no-progress",
    ])
    .unwrap();
    let c = cli.scenario().unwrap();
    assert_eq!((c.viewers, c.titles, c.rate, c.seed), (500, 50, 250.0, 7));
    assert_eq!(
        (c.events, c.duration_s, c.pack_bytes, c.heartbeat_s),
        (Some(1000), None, 0, 5)
    );
    assert_eq!(c.start_time_ms, 1_795_428_000_000);
    assert_eq!(c.incident.unwrap().region, "eu-west");
    assert_eq!(c.bad_firmware.unwrap().rate, 0.2);
    assert_eq!((c.retry_rate, c.late_rate, c.late_hours), (0.01, 0.02, 6.0));
    assert_eq!(c.spike.unwrap().factor, 5.0);
    let o = cli.run_options().unwrap();
    assert!(!o.pace && !o.progress);
    assert_eq!(
        cli.outputs().unwrap().stream.as_deref(),
        Some("playback-events")
    );
}

#[test]
fn misuse_is_a_one_line_error() {
    for (args, needle) in [
        (
            &["--incident", "t0001:eu-west:60"][..],
            "expected title:region:start_s:duration_s:stall_fraction",
        ),
        (&["--incident", "t0001:eu-west:a:1:0.3"][..], "not a number"),
        (
            &["--bad-firmware", "5.2.0"][..],
            "expected app_version:rate",
        ),
        (&["--spike", "1:2:0.5"][..], "factor must be in [1, 100]"),
        (&["--start-time", "yesterday"][..], "RFC 3339"),
    ] {
        let e = parse(args).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValueValidation, "{args:?}");
        let first = e.to_string().lines().next().unwrap().to_string();
        assert!(first.contains(needle), "{first}");
    }
    assert_eq!(
        parse(&["--events", "5", "--duration-s", "5"])
            .unwrap_err()
            .kind(),
        ErrorKind::ArgumentConflict
    );
    let cli = parse(&[
        "--manifest",
        "m.json",
        "--incident",
        "t0999:eu-west:0:10:0.3",
        "--titles",
        "20",
    ])
    .unwrap();
    let msg = cli.scenario().unwrap_err().to_string();
    assert!(msg.contains("t0999") && !msg.contains('\n'), "{msg}");
    let msg = parse(&["--rate", "10"])
        .unwrap()
        .outputs()
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("invalid scenario: nothing to do"), "{msg}");
}

#[test]
fn scenario_file_is_the_base_and_flags_override() {
    let path = std::env::temp_dir().join(format!("loadgen-scenario-{}.json", std::process::id()));
    std::fs::write(&path, r#"{"seed": 9, "rate": 30, "retry_rate": 0.1, "incident": {"title_id": "t0001", "region": "us-east", "start_s": 10, "duration_s": 20, "stall_fraction": 0.4}}"#).unwrap();
    let cli = parse(&[
        "--scenario-file",
        path.to_str().unwrap(),
        "--rate",
        "40",
        "--manifest",
        "x",
    ])
    .unwrap();
    let c = cli.scenario().unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!((c.seed, c.rate, c.retry_rate), (9, 40.0, 0.1));
    assert_eq!(c.incident.unwrap().stall_fraction, 0.4);
    assert_eq!(c.start_time_ms, loadgen::config::DEFAULT_START_MS);
}

#[tokio::test]
async fn offline_run_writes_files_and_manifest() {
    let dir = std::env::temp_dir().join(format!("loadgen-run-{}", std::process::id()));
    let (out, event, manifest) = (dir.join("r.jsonl"), dir.join("e.json"), dir.join("m.json"));
    let cli = parse(&[
        "--events",
        "2000",
        "--start-time",
        "2026-11-23T10:00:00Z",
        "--bad-firmware",
        "*:0.02",
        "--retry-rate",
        "0.01",
        "--out-file",
        out.to_str().unwrap(),
        "--kinesis-event-file",
        event.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
        "--as-fast-as-possible",
        "--no-progress",
    ])
    .unwrap();
    let report = run(
        cli.scenario().unwrap(),
        cli.outputs().unwrap(),
        cli.run_options().unwrap(),
    )
    .await
    .unwrap();
    let m = Manifest::read_from(&manifest).unwrap();
    let records = read_records_file(&out).unwrap();
    let event_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(report.summary, m.summary);
    assert_eq!(m.summary.events, 2_000);
    assert_eq!(records.len() as u64, m.summary.records);
    assert_eq!(
        event_json["Records"].as_array().unwrap().len() as u64,
        m.summary.records
    );
    assert_eq!(report.undelivered(), 0);
    let text = report.to_string();
    assert!(
        text.contains("2000 generated") && text.contains("achieved"),
        "{text}"
    );
    let _ = RunOptions::default();
}

#[test]
fn catalogue_out_alone_writes_the_titles_parquet() {
    let dir = std::env::temp_dir().join(format!("loadgen-cli-catalogue-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let path = dir.join("titles.parquet");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_playback-loadgen"))
        .args(["--titles", "25", "--seed", "5", "--catalogue-out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = lake::read_titles(&std::fs::read(&path).unwrap()).unwrap();
    let cfg = loadgen::ScenarioConfig {
        titles: 25,
        seed: 5,
        ..Default::default()
    };
    assert_eq!(back, loadgen::catalogue::titles(&cfg));
    std::fs::remove_dir_all(&dir).unwrap();
}
