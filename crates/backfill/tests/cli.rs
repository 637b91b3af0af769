//! The `playback-backfill` binary on a local lake directory, and its misuse messages.

use std::process::Command;

use lake::{write_rows, LakeRow};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_playback-backfill"))
}

fn row(seq: u32, sub: u32, viewer: &str, title: &str, arrival: &str) -> LakeRow {
    LakeRow {
        event_id: format!("e-{seq}-{sub}"),
        event_type: "heartbeat".into(),
        event_time: "2026-11-23T10:00:01.000Z".into(),
        viewer_id: viewer.into(),
        session_id: format!("{viewer}-s1"),
        title_id: title.into(),
        region: "eu-west".into(),
        watched_ms: Some(9_000),
        stalled_ms: Some(1_000),
        bitrate_kbps: None,
        position_ms: None,
        device_platform: Some("tv".into()),
        app_version: None,
        error_code: None,
        startup_ms: None,
        schema_version: 1,
        ingest_time: arrival.into(),
        ingest_shard: "shardId-000000000000".into(),
        ingest_seq: seq.to_string(),
        ingest_sub: sub,
    }
}

#[test]
fn from_dir_writes_features_and_windows() {
    let dir = std::env::temp_dir().join(format!("backfill-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (d1, d2) = (
        dir.join("events/dt=2026-11-23/hour=10"),
        dir.join("events/dt=2026-11-24/hour=00"),
    );
    std::fs::create_dir_all(&d1).unwrap();
    std::fs::create_dir_all(&d2).unwrap();
    // Files in the "wrong" order: the later sequence numbers sort first by name.
    let late = [row(10, 0, "v1", "t2", "2026-11-23T10:00:12.000Z")];
    let early = [
        row(9, 0, "v1", "t1", "2026-11-23T10:00:02.000Z"),
        row(9, 1, "v2", "t1", "2026-11-23T10:00:02.000Z"),
    ];
    std::fs::write(d1.join("a.parquet"), write_rows(&late).unwrap()).unwrap();
    std::fs::write(d1.join("b.parquet"), write_rows(&early).unwrap()).unwrap();
    let next_day = [row(11, 0, "v1", "t3", "2026-11-24T00:00:01.000Z")];
    std::fs::write(d2.join("c.parquet"), write_rows(&next_day).unwrap()).unwrap();
    let (out, windows) = (dir.join("features.jsonl"), dir.join("windows.csv"));
    let status = bin()
        .args(["--from-dir", dir.to_str().unwrap()])
        .args(["--dt-from", "2026-11-23", "--dt-to", "2026-11-23"])
        .args(["--out", out.to_str().unwrap()])
        .args([
            "--windows-out",
            windows.to_str().unwrap(),
            "--window-s",
            "10",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["viewer_id"], "v1");
    assert_eq!(lines[0]["recent_titles"], serde_json::json!(["t2", "t1"]));
    assert_eq!(
        lines[0]["events_applied"], 2,
        "the 2026-11-24 file is outside the range"
    );
    let csv = std::fs::read_to_string(&windows).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].starts_with(
        "2026-11-23T10:00:00.000Z,2026-11-23T10:00:10.000Z,t1,eu-west,18000,2000,2,2,2,1,"
    ));
    assert!(rows[2].contains(",t2,eu-west,9000,1000,1,1,1,1,0.100000,0.05,false"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn misuse_is_one_line_and_non_zero() {
    for args in [
        vec![],
        vec!["--from-dir", "/nonexistent", "--out", "x"],
        vec!["--from-lake", "s3://b/events", "--out", "x"],
        vec![
            "--from-lake",
            "bucket/events",
            "--dt-from",
            "2026-11-23",
            "--dt-to",
            "2026-11-23",
            "--out",
            "x",
        ],
        vec![
            "--from-dir",
            ".",
            "--dt-from",
            "2026-11-24",
            "--dt-to",
            "2026-11-23",
            "--out",
            "x",
        ],
        vec!["--from-dir", "."],
        vec!["--from-dir", ".", "--out", "x", "--window-s", "0"],
        vec!["--from-dir", ".", "--out", "x", "--bogus"],
        vec!["--from-dir", ".", "--from-lake", "s3://b/p", "--out", "x"],
    ] {
        let out = bin().args(&args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("playback-backfill: "), "{err}");
    }
}
