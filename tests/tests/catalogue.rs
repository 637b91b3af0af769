//! The title catalogue in the lake: the generator's titles, written where the
//! demo uploads them, read back through lake_query.py's `playback.titles`.

mod canonical_lake;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use canonical_lake::{script, write_catalogue};
use loadgen::ScenarioConfig;
use serde_json::Value;

fn fresh(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn query(dir: &Path, sql: &str) -> Result<Vec<Vec<Value>>> {
    let out = script(dir, "lake_query.py", &["--json", "--sql", sql])?;
    let v: Value = serde_json::from_slice(&out)?;
    Ok(serde_json::from_value(v["rows"].clone())?)
}

fn number(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(-1)
}

#[test]
fn playback_titles_reads_the_generated_catalogue() -> Result<()> {
    let dir = fresh("catalogue")?;
    let titles = loadgen::catalogue::titles(&ScenarioConfig {
        titles: 120,
        ..Default::default()
    });
    write_catalogue(&dir, &titles)?;
    let rows = query(
        &dir,
        "SELECT count(*), count(DISTINCT genre) FROM playback.titles",
    )?;
    let genres: BTreeSet<&str> = titles.iter().map(|t| t.genre.as_str()).collect();
    assert_eq!(
        (number(&rows[0][0]), number(&rows[0][1])),
        (titles.len() as i64, genres.len() as i64),
        "{rows:?}"
    );
    let first = query(
        &dir,
        "SELECT title_id, kind, duration_ms, CAST(release_day AS VARCHAR) FROM playback.titles ORDER BY title_id LIMIT 1",
    )?;
    let t = &titles[0];
    assert_eq!(first[0][0], Value::from(t.title_id.as_str()));
    assert_eq!(first[0][1], Value::from(t.kind.as_str()));
    assert_eq!(number(&first[0][2]), t.duration_ms);
    assert_eq!(first[0][3], Value::from(t.release_day.as_str()));
    Ok(())
}

#[test]
fn playback_titles_is_empty_before_a_catalogue_lands() -> Result<()> {
    let dir = fresh("catalogue-empty")?;
    let rows = query(&dir, "SELECT count(*) FROM playback.titles")?;
    assert_eq!(number(&rows[0][0]), 0);
    Ok(())
}
