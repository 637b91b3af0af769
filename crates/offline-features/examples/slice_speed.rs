//! How long one training slice takes per event, and how big its state is per
//! viewer: the figures behind the training build's sizing
//! (infra/lib/training-build.ts) and its cost lines (crates/cost-model).
//!
//! `cargo run --release -p offline-features --example slice_speed [-- EVENTS]`

use std::time::Instant;

use offline_features::slices::{self, SliceId};
use playback_domain::catalogue::Catalogue;
use playback_domain::lake::{Ingest, LakeRow};
use playback_domain::long_horizon::RunHistory;
use playback_domain::training::TrainingState;
use playback_domain::{decode_record, Clock};

const PASSES: u32 = 8;

fn main() -> anyhow::Result<()> {
    let events: f64 = std::env::args()
        .nth(1)
        .map_or(Ok(400_000.0), |a| a.parse())?;
    let cfg = loadgen::ScenarioConfig {
        seed: 5,
        viewers: 20_000,
        titles: 500,
        rate: 50.0,
        duration_s: Some(events / 50.0),
        heartbeat_s: 10,
        pack_bytes: 0,
        ..Default::default()
    };
    let g = loadgen::generate(&cfg)?;
    let titles =
        loadgen::population::Population::new(cfg.seed, cfg.viewers as usize, cfg.titles as usize)
            .catalog
            .titles();
    let catalogue = Catalogue::new(titles);
    let mut rows = Vec::new();
    for (i, r) in g.records.iter().enumerate() {
        let seq = format!("{i:024}");
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
    // As UNLOAD writes them: files of ~100 k rows.
    let files: Vec<Vec<u8>> = rows
        .chunks(100_000)
        .map(lake::write_rows)
        .collect::<Result<_, _>>()?;
    let input_bytes: usize = files.iter().map(Vec::len).sum();
    let history = RunHistory::default();
    let started = Instant::now();
    let mut state = TrainingState::default();
    let mut labels = 0;
    for f in &files {
        labels += lake::read_rows(f)?
            .iter()
            .filter(|r| slices::is_label(&r.event_type))
            .count();
    }
    let mut out_rows = 0;
    for pass in 0..PASSES {
        let mut mine = Vec::new();
        for f in &files {
            mine.extend(
                lake::read_rows(f)?
                    .into_iter()
                    .filter(|r| slices::pass_of(&r.viewer_id, PASSES) == pass),
            );
        }
        let id = SliceId {
            day: "2026-01-01",
            bucket: 0,
            pass,
        };
        out_rows += slices::build(&mut state, &mine, &catalogue, &history, id)?
            .listing
            .rows;
    }
    let build_s = started.elapsed().as_secs_f64();
    let t = Instant::now();
    let stored = slices::encode_state(&state);
    let back = slices::decode_state(&stored, "state")?;
    let state_s = t.elapsed().as_secs_f64();
    assert_eq!(back, state);
    let n = rows.len() as f64;
    let viewers = state.viewers.len() as f64;
    println!("events {n:.0}, labels {labels}, rows {out_rows}, viewers {viewers:.0}, input {:.1} B/event", input_bytes as f64 / n);
    println!(
        "slice ({PASSES} passes): {build_s:.2} s = {:.2} us/event",
        build_s / n * 1e6
    );
    println!(
        "state: {:.0} B/viewer gzip, encode+decode {:.1} us/viewer",
        stored.len() as f64 / viewers,
        state_s / viewers * 1e6
    );
    Ok(())
}
