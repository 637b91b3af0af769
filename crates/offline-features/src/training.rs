//! Point-in-time training rows as day partitions of Parquet:
//! `features/training_examples/dt=<day>/part-0.parquet`, `dt` the UTC day of the label's event
//! time. The columns are `events/training-columns.json` (the Glue table reads
//! the same file). A partition is rewritten whole (temp file, rename, then
//! every other file of the day removed), rows sorted by event_id, so a re-run
//! of a day replaces it byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use arrow_array::builder::{
    BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use playback_domain::long_horizon::RunHistory;
use playback_domain::training::TrainingRow;
use serde::Deserialize;

use crate::OfflineError;

/// `lake.training_prefix` of infra/pipeline.json.
pub fn training_prefix() -> &'static str {
    &playback_topology::Topology::deployed().lake.training_prefix
}

#[derive(Deserialize)]
struct Columns {
    columns: Vec<Column>,
}

#[derive(Deserialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let c: Columns = serde_json::from_str(include_str!("../../../events/training-columns.json"))
        .expect("events/training-columns.json parses");
    c.columns
});

fn data_type(ty: &str) -> DataType {
    match ty {
        "string" => DataType::Utf8,
        "bigint" => DataType::Int64,
        "int" => DataType::Int32,
        "boolean" => DataType::Boolean,
        "array<string>" => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        other => panic!("events/training-columns.json: no Arrow type for {other}"),
    }
}

/// The table's schema (every column nullable, as Glue's are).
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMNS
            .iter()
            .map(|c| Field::new(&c.name, data_type(&c.ty), true))
            .collect::<Vec<_>>(),
    ))
}

/// One row as the writer sees it: the row and, when it carries long-horizon
/// features, the publish time of the run they came from.
pub struct Example<'a> {
    pub row: &'a TrainingRow,
    pub lh_published_ms: Option<i64>,
}

enum Cell {
    Text(Option<String>),
    Big(Option<i64>),
    Int(Option<i32>),
    Bool(Option<bool>),
    List(Vec<String>),
}

fn cell(x: &Example, name: &str) -> Option<Cell> {
    use Cell::*;
    let (r, s, lh) = (x.row, &x.row.session, x.row.long_horizon.as_ref());
    let genre = |k: usize| lh.and_then(|l| l.top_genres.get(k));
    Some(match name {
        "event_id" => Text(Some(r.event_id.clone())),
        "label" => Text(Some(r.label.to_string())),
        "completed" => Bool(r.completed),
        "viewer_id" => Text(Some(r.viewer_id.clone())),
        "session_id" => Text(Some(r.session_id.clone())),
        "title_id" => Text(Some(r.title_id.clone())),
        "event_time_ms" => Big(Some(r.event_time_ms)),
        "s_recent_titles" => List(s.recent_titles.clone()),
        "s_current_title" => Text(s.current_title.clone()),
        "s_current_session" => Text(s.current_session.clone()),
        "s_session_skips" => Big(Some(s.session_skips as i64)),
        "s_session_saves" => Big(Some(s.session_saves as i64)),
        "s_session_watched_ms" => Big(Some(s.session_watched_ms as i64)),
        "s_session_stalled_ms" => Big(Some(s.session_stalled_ms as i64)),
        "s_lifetime_watched_ms" => Big(Some(s.lifetime_watched_ms as i64)),
        "s_lifetime_stalled_ms" => Big(Some(s.lifetime_stalled_ms as i64)),
        "s_last_event_time_ms" => Big(Some(s.last_event_time_ms)),
        "s_device_platform" => Text(s.device_platform.clone()),
        "s_events_applied" => Big(Some(s.events_applied as i64)),
        "lh_as_of_ms" => Big(lh.map(|l| l.as_of_ms)),
        "lh_published_ms" => Big(lh.and(x.lh_published_ms)),
        "lh_genre_1" => Text(genre(0).map(|g| g.genre.clone())),
        "lh_genre_1_bp" => Int(genre(0).map(|g| g.share_bp as i32)),
        "lh_genre_2" => Text(genre(1).map(|g| g.genre.clone())),
        "lh_genre_2_bp" => Int(genre(1).map(|g| g.share_bp as i32)),
        "lh_genre_3" => Text(genre(2).map(|g| g.genre.clone())),
        "lh_genre_3_bp" => Int(genre(2).map(|g| g.share_bp as i32)),
        "lh_plays" => Int(lh.map(|l| l.plays as i32)),
        "lh_completion_bp" => Int(lh.and_then(|l| l.completion_bp.map(|v| v as i32))),
        "lh_preferred_device" => Text(lh.and_then(|l| l.preferred_device.clone())),
        "lh_preferred_daypart" => Text(lh.and_then(|l| l.preferred_daypart.clone())),
        "lh_active_days" => Int(lh.map(|l| l.active_days as i32)),
        "lh_watched_ms" => Big(lh.map(|l| l.watched_ms as i64)),
        _ => return None,
    })
}

fn array(name: &str, ty: &DataType, rows: &[Example]) -> Result<ArrayRef, OfflineError> {
    let unknown = || OfflineError::Column {
        column: name.into(),
        what: "in training-columns.json but not in training.rs".into(),
    };
    let cells = rows
        .iter()
        .map(|x| cell(x, name).ok_or_else(unknown))
        .collect::<Result<Vec<_>, _>>()?;
    let mismatch = || OfflineError::Column {
        column: name.into(),
        what: format!("training.rs does not give it as {ty}"),
    };
    Ok(match ty {
        DataType::Utf8 => {
            let mut b = StringBuilder::new();
            for c in cells {
                let Cell::Text(v) = c else {
                    return Err(mismatch());
                };
                b.append_option(v);
            }
            Arc::new(b.finish())
        }
        DataType::Int64 => {
            let mut b = Int64Builder::new();
            for c in cells {
                let Cell::Big(v) = c else {
                    return Err(mismatch());
                };
                b.append_option(v);
            }
            Arc::new(b.finish())
        }
        DataType::Int32 => {
            let mut b = Int32Builder::new();
            for c in cells {
                let Cell::Int(v) = c else {
                    return Err(mismatch());
                };
                b.append_option(v);
            }
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::new();
            for c in cells {
                let Cell::Bool(v) = c else {
                    return Err(mismatch());
                };
                b.append_option(v);
            }
            Arc::new(b.finish())
        }
        _ => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for c in cells {
                let Cell::List(v) = c else {
                    return Err(mismatch());
                };
                b.append_value(v.into_iter().map(Some));
            }
            Arc::new(b.finish())
        }
    })
}

/// One partition's Parquet bytes, rows sorted by event_id.
pub fn encode(rows: &mut [Example]) -> Result<Vec<u8>, OfflineError> {
    rows.sort_by(|a, b| a.row.event_id.cmp(&b.row.event_id));
    let schema = schema();
    let columns = schema
        .fields()
        .iter()
        .map(|f| array(f.name(), f.data_type(), rows))
        .collect::<Result<Vec<_>, _>>()?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema.clone(), Some(props))?;
    w.write(&RecordBatch::try_new(schema, columns)?)?;
    w.close()?;
    Ok(out)
}

/// `YYYY-MM-DD` of an epoch-ms instant, UTC.
pub fn day_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn partition_dir(lake: &Path, day: &str) -> PathBuf {
    lake.join(training_prefix()).join(format!("dt={day}"))
}

/// What [`write_days`] wrote: rows per day.
pub type Written = BTreeMap<String, usize>;

/// Writes the day partitions of `rows`, restricted to `days` when given
/// (the other days' rows are not touched). Each written day is replaced whole.
pub fn write_days(
    lake: &Path,
    rows: &[TrainingRow],
    history: &RunHistory,
    days: Option<&[String]>,
) -> Result<Written, OfflineError> {
    let mut by_day: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    for row in rows {
        let day = day_of(row.event_time_ms);
        if days.is_some_and(|d| !d.contains(&day)) {
            continue;
        }
        let lh_published_ms = history.served_at(row.event_time_ms).map(|r| r.published_ms);
        by_day.entry(day).or_default().push(Example {
            row,
            lh_published_ms,
        });
    }
    let mut written = Written::new();
    for (day, mut examples) in by_day {
        let dir = partition_dir(lake, &day);
        std::fs::create_dir_all(&dir).map_err(|e| OfflineError::io(dir.display(), e))?;
        let bytes = encode(&mut examples)?;
        let (tmp, part) = (dir.join(".part-0.parquet.tmp"), dir.join("part-0.parquet"));
        std::fs::write(&tmp, bytes).map_err(|e| OfflineError::io(tmp.display(), e))?;
        std::fs::rename(&tmp, &part).map_err(|e| OfflineError::io(part.display(), e))?;
        for entry in std::fs::read_dir(&dir).map_err(|e| OfflineError::io(dir.display(), e))? {
            let p = entry
                .map_err(|e| OfflineError::io(dir.display(), e))?
                .path();
            if p != part {
                std::fs::remove_file(&p).map_err(|e| OfflineError::io(p.display(), e))?;
            }
        }
        written.insert(day, examples.len());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use playback_domain::features::ViewerFeatures;

    use super::*;

    fn row(id: &str, t: i64) -> TrainingRow {
        TrainingRow {
            event_id: id.into(),
            label: "skip",
            completed: None,
            viewer_id: "v1".into(),
            session_id: "s1".into(),
            title_id: "t1".into(),
            event_time_ms: t,
            session: ViewerFeatures::new("v1"),
            long_horizon: None,
        }
    }

    #[test]
    fn every_column_of_the_contract_is_written() {
        let rows = [row("b", 0), row("a", 86_400_000)];
        let mut ex: Vec<_> = rows
            .iter()
            .map(|row| Example {
                row,
                lh_published_ms: None,
            })
            .collect();
        let bytes = encode(&mut ex).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(bytes),
        )
        .unwrap();
        assert_eq!(reader.schema().fields().len(), COLUMNS.len());
        assert_eq!(ex[0].row.event_id, "a");
    }

    #[test]
    fn a_rerun_replaces_the_day_and_leaves_other_days() {
        let lake = std::env::temp_dir().join(format!("training-{}", std::process::id()));
        std::fs::remove_dir_all(&lake).ok();
        let h = RunHistory::default();
        let rows = [row("a", 0), row("b", 86_400_000)];
        let first = write_days(&lake, &rows, &h, None).unwrap();
        assert_eq!(first.len(), 2);
        let day0 = partition_dir(&lake, "1970-01-01");
        let before = std::fs::read(day0.join("part-0.parquet")).unwrap();
        std::fs::write(day0.join("part-1.parquet"), b"stray").unwrap();
        let again = write_days(&lake, &rows, &h, Some(&["1970-01-01".into()])).unwrap();
        assert_eq!(again.keys().collect::<Vec<_>>(), ["1970-01-01"]);
        assert_eq!(std::fs::read(day0.join("part-0.parquet")).unwrap(), before);
        assert_eq!(std::fs::read_dir(&day0).unwrap().count(), 1);
        assert!(partition_dir(&lake, "1970-01-02")
            .join("part-0.parquet")
            .exists());
        std::fs::remove_dir_all(&lake).ok();
    }
}
