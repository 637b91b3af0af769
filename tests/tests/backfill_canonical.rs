//! The lake backfill reads the canonical table: `make backfill-canonical`
//! exports a snapshot of playback.events_canonical (lake_query.py --copy-to,
//! one row per event_id, time travel with AS_OF) and replays it through the
//! same session-features fold as the stream. On a lake where producer retries,
//! re-sends and Firehose redeliveries land many events twice, the export holds
//! each distinct valid event once, and its features equal the raw log's replay
//! keeping only each event_id's winning copy (earliest arrival, then shard and
//! stream position): exactly once, in stream order. The raw replay with every
//! copy counts retried events twice.

mod canonical_lake;

use anyhow::{ensure, Result};
use backfill::{fold_viewers, rows_to_events, source};
use canonical_lake::{export_canonical, raw_rows, script, write_lake};
use loadgen::{generate, ScenarioConfig};

#[test]
fn the_backfill_of_the_canonical_table_equals_the_raw_replay() -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = ScenarioConfig {
        viewers: 200,
        titles: 10,
        rate: 50.0,
        duration_s: Some(150.0),
        start_time_ms: now - 3 * 3_600_000,
        pack_bytes: 2_000,
        retry_rate: 0.08,
        ..Default::default()
    };
    let g = generate(&cfg)?;
    let (rows, arrival) = raw_rows(&g);
    let dir = std::env::temp_dir().join(format!("backfill-canonical-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    write_lake(&dir, &rows, &arrival)?;
    script(&dir, "canonical.py", &["--settle-s", "0", "--no-hot"])?;
    let export = export_canonical(&dir)?;
    let canonical = source::read_dir(&export, None)?;
    let distinct = g.manifest.distinct_valid_event_ids().len();
    ensure!(
        canonical.rows.len() == distinct,
        "export rows {} = distinct valid events {distinct}",
        canonical.rows.len()
    );
    let raw = source::read_dir(&dir.join("events"), None)?;
    ensure!(
        raw.rows.len() > distinct + distinct / 10,
        "duplicates >10 %"
    );
    let mut all = rows_to_events(&raw.rows)?;
    let counted_twice = fold_viewers(&all);
    // Winners: the first copy by (arrival, shard, position); then stream order again.
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |e: &backfill::ReplayEvent| (e.arrival_ms, e.shard.clone(), e.position.clone());
        key(&all[a]).cmp(&key(&all[b]))
    });
    let mut seen = std::collections::HashSet::new();
    let keep: std::collections::HashSet<usize> = order
        .into_iter()
        .filter(|&i| seen.insert(all[i].event.event_id.to_string()))
        .collect();
    let mut i = 0;
    all.retain(|_| {
        i += 1;
        keep.contains(&(i - 1))
    });
    let from_raw = fold_viewers(&all);
    ensure!(
        counted_twice != from_raw,
        "the raw replay counts retries twice"
    );
    let from_canonical = fold_viewers(&rows_to_events(&canonical.rows)?);
    ensure!(from_raw.len() == from_canonical.len(), "viewers");
    for (viewer, f) in &from_canonical {
        ensure!(
            from_raw.get(viewer) == Some(f),
            "{viewer}: canonical {f:?}\nraw {:?}",
            from_raw.get(viewer)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
