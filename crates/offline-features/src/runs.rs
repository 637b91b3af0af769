//! A long-horizon run on the lake: its rows at
//! `features/long_horizon/as_of=<as_of_ms>/*.parquet` (the query's output:
//! Athena UNLOAD on AWS, DuckDB COPY here) and, once published, its manifest
//! `features/long_horizon/_runs/<as_of_ms>.json`. Only runs with a manifest
//! are history: a run that never reached the online store was never served.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use playback_domain::long_horizon::{GenreShare, LongHorizonFeatures, Run, RunHistory, TOP_GENRES};
use serde::{Deserialize, Serialize};

use crate::OfflineError;

/// `lake.long_horizon_prefix` of infra/pipeline.json.
pub fn runs_prefix() -> &'static str {
    &playback_topology::Topology::deployed()
        .lake
        .long_horizon_prefix
}

/// Written after the run reached the online store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub as_of_ms: i64,
    pub published_ms: i64,
    pub viewers: usize,
    pub written: usize,
    pub stale: usize,
}

/// A run's cutoff as the batch query's `{{as_of}}` takes it:
/// `YYYY-MM-DD HH:MM:SS.fff` (UTC; the query adds the zone). None out of range.
pub fn as_of_param(as_of_ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(as_of_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
}

pub fn run_dir(lake: &Path, as_of_ms: i64) -> PathBuf {
    lake.join(runs_prefix()).join(format!("as_of={as_of_ms}"))
}

pub fn manifest_path(lake: &Path, as_of_ms: i64) -> PathBuf {
    lake.join(runs_prefix())
        .join("_runs")
        .join(format!("{as_of_ms}.json"))
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array, OfflineError> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| OfflineError::Column {
            column: name.into(),
            what: "missing".into(),
        })
}

fn text(batch: &RecordBatch, name: &str, i: usize) -> Result<Option<String>, OfflineError> {
    let c = column(batch, name)?;
    let strings = match c.data_type() {
        DataType::Utf8 => c.as_string::<i32>(),
        DataType::Utf8View => {
            return Ok(c
                .is_valid(i)
                .then(|| c.as_string_view().value(i).to_string()))
        }
        other => {
            return Err(OfflineError::Column {
                column: name.into(),
                what: format!("{other} is not text"),
            })
        }
    };
    Ok(strings.is_valid(i).then(|| strings.value(i).to_string()))
}

fn int(batch: &RecordBatch, name: &str, i: usize) -> Result<Option<i64>, OfflineError> {
    let c = column(batch, name)?;
    if !c.is_valid(i) {
        return Ok(None);
    }
    Ok(Some(match c.data_type() {
        DataType::Int64 => c.as_primitive::<Int64Type>().value(i),
        DataType::Int32 => c.as_primitive::<Int32Type>().value(i) as i64,
        other => {
            return Err(OfflineError::Column {
                column: name.into(),
                what: format!("{other} is not an integer"),
            })
        }
    }))
}

/// The rows of one run file. `as_of_ms` is the run's (its directory's).
pub fn read_run(bytes: Vec<u8>, as_of_ms: i64) -> Result<Vec<LongHorizonFeatures>, OfflineError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        let b = batch?;
        for i in 0..b.num_rows() {
            let mut top_genres = Vec::new();
            for k in 1..=TOP_GENRES {
                if let (Some(genre), Some(bp)) = (
                    text(&b, &format!("genre_{k}"), i)?,
                    int(&b, &format!("genre_{k}_bp"), i)?,
                ) {
                    top_genres.push(GenreShare {
                        genre,
                        share_bp: bp as u32,
                    });
                }
            }
            out.push(LongHorizonFeatures {
                viewer_id: text(&b, "viewer_id", i)?.unwrap_or_default(),
                as_of_ms,
                top_genres,
                plays: int(&b, "plays", i)?.unwrap_or(0) as u32,
                completion_bp: int(&b, "completion_bp", i)?.map(|v| v as u32),
                preferred_device: text(&b, "preferred_device", i)?,
                preferred_daypart: text(&b, "preferred_daypart", i)?,
                active_days: int(&b, "active_days", i)?.unwrap_or(0) as u32,
                watched_ms: int(&b, "watched_ms", i)?.unwrap_or(0) as u64,
            });
        }
    }
    Ok(out)
}

/// The Parquet files under `dir`, sorted (UNLOAD writes `shard=<n>/` folders).
fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), OfflineError> {
    for entry in std::fs::read_dir(dir).map_err(|e| OfflineError::io(dir.display(), e))? {
        let path = entry
            .map_err(|e| OfflineError::io(dir.display(), e))?
            .path();
        if path.is_dir() {
            parquet_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Every row of the run at `as_of_ms` in a local lake.
pub fn read_run_dir(lake: &Path, as_of_ms: i64) -> Result<Vec<LongHorizonFeatures>, OfflineError> {
    let mut files = Vec::new();
    parquet_files(&run_dir(lake, as_of_ms), &mut files)?;
    let mut rows = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| OfflineError::io(f.display(), e))?;
        rows.extend(read_run(bytes, as_of_ms)?);
    }
    Ok(rows)
}

pub fn write_manifest(lake: &Path, m: &Manifest) -> Result<(), OfflineError> {
    let path = manifest_path(lake, m.as_of_ms);
    let parent = path.parent().expect("manifest path has a parent");
    std::fs::create_dir_all(parent).map_err(|e| OfflineError::io(parent.display(), e))?;
    let json = serde_json::to_vec_pretty(m).expect("manifest serialises");
    std::fs::write(&path, json).map_err(|e| OfflineError::io(path.display(), e))
}

/// The published runs of a local lake, with their rows.
pub fn load_history(lake: &Path) -> Result<RunHistory, OfflineError> {
    let dir = lake.join(runs_prefix()).join("_runs");
    let mut runs = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(RunHistory::default());
    };
    for entry in entries {
        let path = entry
            .map_err(|e| OfflineError::io(dir.display(), e))?
            .path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| OfflineError::io(path.display(), e))?;
        let m: Manifest =
            serde_json::from_slice(&bytes).map_err(|source| OfflineError::Manifest {
                path: path.display().to_string(),
                source,
            })?;
        let features: BTreeMap<String, LongHorizonFeatures> = read_run_dir(lake, m.as_of_ms)?
            .into_iter()
            .map(|f| (f.viewer_id.clone(), f))
            .collect();
        runs.push(Run {
            as_of_ms: m.as_of_ms,
            published_ms: m.published_ms,
            features,
        });
    }
    Ok(RunHistory::new(runs))
}
