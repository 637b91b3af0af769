//! The `make canonical` path on the emulator: raw lake and warehouse on S3,
//! the catalog in a sqlite file; a second run commits nothing.

mod canonical_lake;

use std::process::Command;

use anyhow::{ensure, Result};
use canonical_lake::{python, raw_rows, root, snapshot, write_lake, START_MS};
use loadgen::{generate, ScenarioConfig};
use playback_domain::event::format_rfc3339_ms;
use serde_json::Value;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn canonical_table_on_the_emulators_s3() -> Result<()> {
    integration_tests::require_emulator("canonical_table_on_the_emulators_s3");
    let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
    let s3 = playback_aws::s3_client(&playback_aws::load_aws_config().await);
    let bucket = format!(
        "canonical-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let cfg = ScenarioConfig {
        viewers: 50,
        duration_s: Some(60.0),
        start_time_ms: START_MS,
        retry_rate: 0.05,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let dir = std::env::temp_dir().join(&bucket);
    write_lake(&dir, &rows, &arrival)?;
    s3.create_bucket().bucket(&bucket).send().await?;
    for dt in std::fs::read_dir(dir.join("events"))?.flatten() {
        for hour in std::fs::read_dir(dt.path())?.flatten() {
            for f in std::fs::read_dir(hour.path())?.flatten() {
                let key = f.path().strip_prefix(&dir)?.to_string_lossy().into_owned();
                let body = aws_sdk_s3::primitives::ByteStream::from(std::fs::read(f.path())?);
                s3.put_object()
                    .bucket(&bucket)
                    .key(key)
                    .body(body)
                    .send()
                    .await?;
            }
        }
    }
    let catalog = dir.join("catalog.db");
    let run = |script: &str, args: &[&str]| -> Result<Value> {
        let out = Command::new(python())
            .arg(root().join("scripts").join(script))
            .args(["--json", "--bucket", &bucket, "--endpoint", &endpoint])
            .args(args)
            .env("CANONICAL_CATALOG", &catalog)
            .env_remove("LAKE_DIR")
            .output()?;
        ensure!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    let end = format_rfc3339_ms(arrival.iter().max().unwrap() + 1);
    let first = run("canonical.py", &["--until", &end])?;
    let truth = g.manifest.distinct_valid_event_ids().len();
    assert_eq!(
        (first["committed"].clone(), first["rows_added"].clone()),
        (Value::Bool(true), Value::from(truth))
    );
    let again = run("canonical.py", &["--until", &end])?;
    assert_eq!(
        (again["committed"].clone(), snapshot(&again)),
        (Value::Bool(false), snapshot(&first))
    );
    let count = run(
        "lake_query.py",
        &[
            "--sql",
            "SELECT count(DISTINCT event_id), count(*) FROM playback.events_canonical",
        ],
    )?;
    assert_eq!(
        count["rows"][0],
        serde_json::json!([truth.to_string(), truth.to_string()])
    );
    let mut pages = s3.list_objects_v2().bucket(&bucket).into_paginator().send();
    let mut warehouse = 0;
    while let Some(page) = pages.next().await {
        for o in page?.contents() {
            let key = o.key().unwrap_or_default();
            warehouse += usize::from(key.starts_with("canonical/playback/events_canonical/data/"));
            s3.delete_object().bucket(&bucket).key(key).send().await?;
        }
    }
    s3.delete_bucket().bucket(&bucket).send().await?;
    std::fs::remove_dir_all(&dir).ok();
    ensure!(warehouse > 0, "the table's data files are on S3");
    Ok(())
}
