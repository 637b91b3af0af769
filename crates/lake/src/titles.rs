//! The title catalogue (`playback.titles`) as one Parquet file: title_id,
//! genre, kind (strings), duration_ms (bigint), release_day (date).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use playback_domain::catalogue::{Title, TitleKind};

use crate::parquet_io::writer_properties;
use crate::LakeError;

/// The Arrow schema of the catalogue file (and of the Glue `titles` table).
pub fn titles_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("title_id", DataType::Utf8, false),
        Field::new("genre", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("duration_ms", DataType::Int64, false),
        Field::new("release_day", DataType::Date32, false),
    ]))
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
}

fn day_number(day: &str) -> Result<i32, LakeError> {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|e| LakeError::Conversion(format!("release_day {day:?}: {e}")))?;
    i32::try_from((d - epoch()).num_days())
        .map_err(|_| LakeError::Conversion(format!("release_day {day:?} out of range")))
}

fn day_string(days: i32) -> Result<String, LakeError> {
    epoch()
        .checked_add_signed(chrono::Duration::days(days.into()))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .ok_or_else(|| LakeError::Conversion(format!("release_day {days} out of range")))
}

/// Encodes the catalogue as one Parquet file (columns of [`titles_schema`]).
pub fn write_titles(titles: &[Title]) -> Result<Vec<u8>, LakeError> {
    let schema = titles_schema();
    let strs = |f: fn(&Title) -> &str| -> ArrayRef {
        Arc::new(titles.iter().map(|t| Some(f(t))).collect::<StringArray>())
    };
    let days = titles
        .iter()
        .map(|t| day_number(&t.release_day))
        .collect::<Result<Vec<i32>, _>>()?;
    let columns: Vec<ArrayRef> = vec![
        strs(|t| &t.title_id),
        strs(|t| &t.genre),
        strs(|t| t.kind.as_str()),
        Arc::new(Int64Array::from_iter_values(
            titles.iter().map(|t| t.duration_ms),
        )),
        Arc::new(Date32Array::from(days)),
    ];
    let mut out = Vec::with_capacity(256 + titles.len() * 32);
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(writer_properties()))?;
    writer.write(&RecordBatch::try_new(schema, columns)?)?;
    writer.close()?;
    Ok(out)
}

/// Decodes a catalogue file. `release_day` may be a date or a `YYYY-MM-DD`
/// string column (DuckDB may write either); `duration_ms` a bigint or an int.
pub fn read_titles(parquet: &[u8]) -> Result<Vec<Title>, LakeError> {
    let bytes = bytes::Bytes::copy_from_slice(parquet);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        titles_of_batch(&batch?, &mut out)?;
    }
    Ok(out)
}

fn titles_of_batch(b: &RecordBatch, out: &mut Vec<Title>) -> Result<(), LakeError> {
    let col = |name: &str| {
        b.column_by_name(name)
            .ok_or_else(|| LakeError::Schema(format!("titles file has no column {name}")))
    };
    let strs = |name: &str| -> Result<Vec<String>, LakeError> {
        let c = col(name)?;
        let values: Vec<Option<&str>> = match c.data_type() {
            DataType::Utf8 => c.as_string::<i32>().iter().collect(),
            DataType::LargeUtf8 => c.as_string::<i64>().iter().collect(),
            DataType::Utf8View => c.as_string_view().iter().collect(),
            t => return Err(LakeError::Schema(format!("{name} is {t}, not a string"))),
        };
        values
            .into_iter()
            .map(|v| {
                v.map(str::to_string)
                    .ok_or_else(|| LakeError::Schema(format!("null in required column {name}")))
            })
            .collect()
    };
    let (ids, genres, kinds) = (strs("title_id")?, strs("genre")?, strs("kind")?);
    let null = |name: &str| LakeError::Schema(format!("null in required column {name}"));
    let duration = col("duration_ms")?;
    let durations: Vec<i64> = match duration.data_type() {
        DataType::Int64 => duration
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.ok_or_else(|| null("duration_ms")))
            .collect::<Result<_, _>>()?,
        DataType::Int32 => duration
            .as_primitive::<arrow_array::types::Int32Type>()
            .iter()
            .map(|v| v.map(i64::from).ok_or_else(|| null("duration_ms")))
            .collect::<Result<_, _>>()?,
        t => return Err(LakeError::Schema(format!("duration_ms is {t}, not bigint"))),
    };
    let release = col("release_day")?;
    let days: Vec<String> = match release.data_type() {
        DataType::Date32 => release
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.ok_or_else(|| null("release_day")).and_then(day_string))
            .collect::<Result<_, _>>()?,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => strs("release_day")?
            .into_iter()
            .map(|d| day_number(&d).and_then(day_string))
            .collect::<Result<_, _>>()?,
        t => return Err(LakeError::Schema(format!("release_day is {t}, not a date"))),
    };
    out.reserve(b.num_rows());
    for i in 0..b.num_rows() {
        let kind = TitleKind::parse(&kinds[i])
            .ok_or_else(|| LakeError::Conversion(format!("unknown title kind {:?}", kinds[i])))?;
        out.push(Title {
            title_id: ids[i].clone(),
            genre: genres[i].clone(),
            kind,
            duration_ms: durations[i],
            release_day: days[i].clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles() -> Vec<Title> {
        (0..50)
            .map(|i| Title {
                title_id: format!("t{:04}", i + 1),
                genre: ["drama", "comedy", "sci-fi"][i % 3].to_string(),
                kind: [TitleKind::Film, TitleKind::Episode, TitleKind::Track][i % 3],
                duration_ms: 60_000 * (20 + i as i64),
                release_day: format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
            })
            .collect()
    }

    #[test]
    fn titles_round_trip_through_parquet() {
        let t = titles();
        let bytes = write_titles(&t).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(read_titles(&bytes).unwrap(), t);
        assert!(read_titles(&write_titles(&[]).unwrap()).unwrap().is_empty());
    }

    #[test]
    fn release_day_is_a_date_column_and_may_be_read_as_a_string() {
        use parquet::basic::LogicalType;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let bytes = bytes::Bytes::from(write_titles(&titles()).unwrap());
        let meta = SerializedFileReader::new(bytes).unwrap().metadata().clone();
        let day = meta.file_metadata().schema_descr().column(4);
        assert_eq!(day.name(), "release_day");
        assert!(matches!(day.logical_type_ref(), Some(LogicalType::Date)));

        // A file with release_day as a string (as DuckDB may write it).
        let schema = Arc::new(Schema::new(vec![
            Field::new("title_id", DataType::Utf8, false),
            Field::new("genre", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("duration_ms", DataType::Int64, false),
            Field::new("release_day", DataType::Utf8, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["t0001"])),
            Arc::new(StringArray::from(vec!["kids"])),
            Arc::new(StringArray::from(vec!["film"])),
            Arc::new(Int64Array::from(vec![5_400_000])),
            Arc::new(StringArray::from(vec!["2025-02-28"])),
        ];
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, schema.clone(), None).unwrap();
        w.write(&RecordBatch::try_new(schema, columns).unwrap())
            .unwrap();
        w.close().unwrap();
        let back = read_titles(&out).unwrap();
        assert_eq!(back[0].release_day, "2025-02-28");
        assert_eq!(back[0].kind, TitleKind::Film);
    }

    #[test]
    fn a_bad_release_day_or_kind_is_a_conversion_error() {
        let mut t = titles();
        t[0].release_day = "soon".into();
        assert!(matches!(write_titles(&t), Err(LakeError::Conversion(_))));
    }
}
