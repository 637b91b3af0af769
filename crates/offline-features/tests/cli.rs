//! `offline-features training` on a local lake: rows = label events among the
//! distinct valid events, a re-run writes the same bytes, bad input is one
//! clear line and exit code 1.

use std::path::Path;
use std::process::Command;

use loadgen::{generate, ScenarioConfig};
use playback_domain::lake::{Ingest, LakeRow};
use playback_domain::training::LABEL_EVENTS;
use playback_domain::{decode_record, Clock};

fn training(lake: &Path, export: &Path) -> std::io::Result<std::process::Output> {
    Command::new(env!("CARGO_BIN_EXE_offline-features"))
        .args(["training", "--lake-dir"])
        .arg(lake)
        .arg("--export")
        .arg(export)
        .output()
}

#[test]
fn training_writes_one_row_per_label_event_and_reruns_byte_for_byte() {
    let cfg = ScenarioConfig {
        viewers: 60,
        titles: 12,
        rate: 40.0,
        duration_s: Some(600.0),
        pack_bytes: 0,
        ..Default::default()
    };
    let g = generate(&cfg).unwrap();
    let mut rows = Vec::new();
    for r in &g.records {
        let seq = format!("{:020}", r.index);
        for d in decode_record(&r.data, Clock::at(r.emit_ms)) {
            let Ok(e) = d.result else { continue };
            let ingest = Ingest {
                arrival_ms: r.emit_ms,
                shard_id: "shardId-000000000000",
                sequence_number: &seq,
                sub_index: d.index,
            };
            rows.push(LakeRow::new(&e, &ingest));
        }
    }
    let lake = std::env::temp_dir().join(format!("offline-features-cli-{}", std::process::id()));
    std::fs::remove_dir_all(&lake).ok();
    let titles = lake.join("catalogue/titles");
    std::fs::create_dir_all(&titles).unwrap();
    std::fs::write(
        titles.join("part-0.parquet"),
        loadgen::catalogue::parquet(&cfg).unwrap(),
    )
    .unwrap();
    let export = lake.join("canonical.parquet");
    std::fs::write(&export, lake::write_rows(&rows).unwrap()).unwrap();

    let out = training(&lake, &export).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let day = offline_features::training::partition_dir(
        &lake,
        &offline_features::training::day_of(cfg.start_time_ms),
    );
    let first = std::fs::read(day.join("part-0.parquet")).unwrap();
    let labels = g
        .manifest
        .distinct_valid()
        .filter(|l| LABEL_EVENTS.contains(&l.event_type))
        .count();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(labels > 20, "{labels}");
    assert!(
        stdout.contains(&format!(" {labels} training rows")),
        "{stdout}"
    );
    assert!(training(&lake, &export).unwrap().status.success());
    assert_eq!(std::fs::read(day.join("part-0.parquet")).unwrap(), first);

    let missing = training(&lake, &lake.join("absent.parquet")).unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.starts_with("offline-features: read ") && err.contains("absent.parquet"),
        "{err}"
    );
    std::fs::remove_dir_all(&lake).ok();
}
