//! A few days of viewing on a local lake, shared by the offline-features
//! tests: one event per record (so the online store's state after each event
//! is observable), producer retries, late heartbeats, shards by partition key
//! as Kinesis assigns them, the canonical table built by its job and exported
//! (one row per event_id), and the title catalogue.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use backfill::{rows_to_events, source, ReplayEvent};
use loadgen::{generate, Generated, ScenarioConfig};
use playback_domain::catalogue::{Catalogue, Title};
use playback_domain::lake::{Ingest, LakeRow};
use playback_domain::{decode_record, Clock};

use crate::canonical_lake::{export_canonical, script, write_catalogue, write_lake};

pub const DAY_MS: i64 = 86_400_000;
/// 2026-03-02T00:00:00Z.
pub const START_MS: i64 = 1_772_409_600_000;
pub const SHARDS: [&str; 2] = ["shardId-000000000000", "shardId-000000000001"];

/// One Kinesis record as a shard delivered it.
pub struct Delivered {
    pub shard: &'static str,
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
    pub arrival_ms: i64,
}

pub struct Lake {
    pub dir: PathBuf,
    pub g: Generated,
    pub titles: Vec<Title>,
    pub catalogue: Catalogue,
    /// Every record, in the order the stream received them.
    pub stream: Vec<Delivered>,
    /// Every copy that landed in the raw lake (retries included).
    pub raw: Vec<LakeRow>,
    /// The canonical table's export: its rows, and replayed in stream order.
    pub canonical: Vec<LakeRow>,
    pub events: Vec<ReplayEvent>,
}

pub fn config() -> ScenarioConfig {
    ScenarioConfig {
        seed: 13,
        viewers: 150,
        titles: 40,
        rate: 0.3,
        start_time_ms: START_MS,
        duration_s: Some(3.5 * 86_400.0),
        heartbeat_s: 60,
        mean_session_s: 900.0,
        pack_bytes: 0,
        retry_rate: 0.05,
        late_rate: 0.02,
        late_hours: 5.0,
        ..Default::default()
    }
}

/// Kinesis maps a partition key to a shard by its hash; any stable hash
/// keeps a viewer on one shard.
fn shard_of(key: &str) -> usize {
    let h = key.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    (h % SHARDS.len() as u64) as usize
}

fn build() -> Result<Lake> {
    let cfg = config();
    let g = generate(&cfg)?;
    let titles =
        loadgen::population::Population::new(cfg.seed, cfg.viewers as usize, cfg.titles as usize)
            .catalog
            .titles();
    let mut next_seq = [0u64; SHARDS.len()];
    let mut stream = Vec::new();
    let (mut raw, mut arrival) = (Vec::new(), Vec::new());
    for r in &g.records {
        let s = shard_of(&r.partition_key);
        let seq = format!("{:024}", next_seq[s]);
        next_seq[s] += 1;
        for d in decode_record(&r.data, Clock::at(r.emit_ms)) {
            let Ok(e) = d.result else { continue };
            let ingest = Ingest {
                arrival_ms: r.emit_ms,
                shard_id: SHARDS[s],
                sequence_number: &seq,
                sub_index: d.index,
            };
            raw.push(LakeRow::new(&e, &ingest));
            arrival.push(r.emit_ms);
        }
        stream.push(Delivered {
            shard: SHARDS[s],
            sequence_number: seq,
            partition_key: r.partition_key.clone(),
            data: r.data.clone(),
            arrival_ms: r.emit_ms,
        });
    }
    let dir = std::env::temp_dir().join(format!("offline-features-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &raw, &arrival)?;
    write_catalogue(&dir, &titles)?;
    script(&dir, "canonical.py", &["--settle-s", "0", "--no-hot"])?;
    let export = export_canonical(&dir)?;
    let canonical = source::read_dir(&export, None)?.rows;
    let events = rows_to_events(&canonical)?;
    Ok(Lake {
        dir,
        catalogue: Catalogue::new(titles.clone()),
        titles,
        g,
        stream,
        raw,
        canonical,
        events,
    })
}

/// Built once per test binary.
pub fn lake() -> &'static Lake {
    static LAKE: OnceLock<Lake> = OnceLock::new();
    LAKE.get_or_init(|| build().expect("the shared lake"))
}

/// Runs infra/athena/features/long_horizon.sql at `as_of_ms` on `dir` into
/// the run's folder, as `make features` does.
pub fn run_batch(dir: &Path, as_of_ms: i64) -> Result<()> {
    let out = offline_features::runs::run_dir(dir, as_of_ms);
    std::fs::create_dir_all(&out)?;
    let sql = crate::canonical_lake::root().join("infra/athena/features/long_horizon.sql");
    script(
        dir,
        "lake_query.py",
        &[
            "--file",
            sql.to_str().context("path")?,
            "--param",
            &format!(
                "as_of={}",
                offline_features::runs::as_of_param(as_of_ms).context("as_of")?
            ),
            "--copy-to",
            out.join("part-0.parquet").to_str().context("path")?,
        ],
    )?;
    Ok(())
}
