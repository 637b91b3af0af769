//! What the end-to-end tests (tests/) share: the emulator guard and the
//! wait until every path has read the whole stream.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use demo::inspect;
use local_pipeline::runner::PipelineHandle;
use playback_domain::StreamPosition;

/// Run on purpose without an emulator, the test fails and says why.
pub fn require_emulator(test: &str) {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.is_empty()) {
        panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p integration-tests -- --ignored`"
        );
    }
}

/// `seq` is at or past `end`, compared as the numbers they are (decimal
/// strings of up to 129 digits: never parsed into an integer).
pub fn reached(seq: &str, end: &str) -> bool {
    matches!(
        (StreamPosition::new(seq, 0), StreamPosition::new(end, 0)),
        (Some(a), Some(b)) if a >= b
    )
}

#[cfg(test)]
#[test]
fn sequence_numbers_compare_as_numbers() {
    let aws = "49590338271490256608559692538361571095921575989136588800";
    let next = "49590338271490256608559692538361571095921575989136588801";
    assert!(reached(next, aws) && reached(aws, aws) && !reached(aws, next));
    assert!(reached("10", "9") && !reached("9", "10"));
    assert!(reached(&"1".repeat(129), aws) && !reached(aws, &"1".repeat(129)));
    assert!(!reached("", aws) && !reached("12a", "1"));
}

/// Waits until every consumer's checkpoint reached the stream's last
/// sequence number on every shard and, if given, the lake holds at least
/// `rows` rows; fails with what is still missing at the deadline.
pub async fn wait_drained(
    pipeline: &PipelineHandle,
    consumers: &[&str],
    ends: &BTreeMap<String, String>,
    lake: Option<(&aws_sdk_s3::Client, &str, &str, usize)>,
    timeout: Duration,
) -> Result<()> {
    let started = Instant::now();
    loop {
        let mut missing = Vec::new();
        for consumer in consumers {
            for (shard, end) in ends {
                match pipeline.checkpoints().get(consumer, shard) {
                    Some(seq) if reached(&seq, end) => {}
                    got => missing.push(format!(
                        "{consumer} on {shard}: checkpoint {}, last record {end}",
                        got.as_deref().unwrap_or("none")
                    )),
                }
            }
        }
        if let (true, Some((s3, bucket, prefix, want))) = (missing.is_empty(), lake) {
            let files = inspect::lake_files(s3, bucket, prefix).await?;
            let rows: usize = files.iter().map(|f| f.rows.len()).sum();
            if rows < want {
                missing.push(format!("lake: {rows} rows of {want} valid lines sent"));
            }
        }
        if missing.is_empty() {
            eprintln!("drained in {:.1} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        if started.elapsed() >= timeout {
            bail!(
                "not drained after {timeout:?}; missing: {}",
                missing.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
