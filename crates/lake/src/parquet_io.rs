//! `LakeRow`s to Parquet bytes and back.
//!
//! Writer settings aim at what Athena (Trino/Hive readers) and DuckDB read
//! without surprises: Parquet 1.0 data pages (as Firehose's Hive writer
//! produces), snappy, dictionary encoding, page statistics for predicate
//! pushdown, row groups of at most [`ROW_GROUP_ROWS`] rows.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{
    Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use playback_domain::event::{format_rfc3339_ms, parse_rfc3339_ms};
use playback_domain::lake::LakeRow;

use crate::schema::{arrow_schema, TIMESTAMP_TZ};
use crate::LakeError;

/// Rows per row group (Athena splits work by row group; ~128k rows of this
/// table is a few MB compressed).
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Writer properties of every lake file.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("playback lake {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Encodes rows as one Parquet file (columns and types of [`arrow_schema`]).
pub fn write_rows(rows: &[LakeRow]) -> Result<Vec<u8>, LakeError> {
    write_rows_with(arrow_schema(), rows)
}

/// Encodes rows with `schema`, a subset of the lake's columns: a file as an
/// older contract version's writer made it (v1: no startup_ms).
pub fn write_rows_with(schema: SchemaRef, rows: &[LakeRow]) -> Result<Vec<u8>, LakeError> {
    let mut out = Vec::with_capacity(64 + rows.len() * 64);
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(writer_properties()))?;
    // One batch per row group keeps the Arrow copy of a large flush bounded.
    for chunk in rows.chunks(ROW_GROUP_ROWS) {
        let columns = schema
            .fields()
            .iter()
            .map(|f| column(f, chunk))
            .collect::<Result<Vec<_>, _>>()?;
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    writer.close()?;
    Ok(out)
}

fn column(field: &Field, rows: &[LakeRow]) -> Result<ArrayRef, LakeError> {
    use DataType::*;
    let name = field.name().as_str();
    let s = |f: fn(&LakeRow) -> &str| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let os = |f: fn(&LakeRow) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let oi = |f: fn(&LakeRow) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let arr = match (name, field.data_type()) {
        ("event_id", Utf8) => s(|r| &r.event_id),
        ("event_type", Utf8) => s(|r| &r.event_type),
        ("viewer_id", Utf8) => s(|r| &r.viewer_id),
        ("session_id", Utf8) => s(|r| &r.session_id),
        ("title_id", Utf8) => s(|r| &r.title_id),
        ("region", Utf8) => s(|r| &r.region),
        ("ingest_shard", Utf8) => s(|r| &r.ingest_shard),
        ("ingest_seq", Utf8) => s(|r| &r.ingest_seq),
        ("device_platform", Utf8) => os(|r| r.device_platform.as_deref()),
        ("app_version", Utf8) => os(|r| r.app_version.as_deref()),
        ("error_code", Utf8) => os(|r| r.error_code.as_deref()),
        ("watched_ms", Int64) => oi(|r| r.watched_ms),
        ("stalled_ms", Int64) => oi(|r| r.stalled_ms),
        ("bitrate_kbps", Int64) => oi(|r| r.bitrate_kbps),
        ("position_ms", Int64) => oi(|r| r.position_ms),
        ("startup_ms", Int64) => oi(|r| r.startup_ms),
        ("schema_version", Int32) => int32(name, rows, |r| r.schema_version)?,
        ("ingest_sub", Int32) => int32(name, rows, |r| r.ingest_sub)?,
        ("event_time", Timestamp(TimeUnit::Millisecond, _)) => {
            timestamps(name, rows, |r| &r.event_time)?
        }
        ("ingest_time", Timestamp(TimeUnit::Millisecond, _)) => {
            timestamps(name, rows, |r| &r.ingest_time)?
        }
        (_, t) => {
            return Err(LakeError::Schema(format!(
                "column {name} of type {t} has no LakeRow field of that type"
            )))
        }
    };
    Ok(arr)
}

fn int32(name: &str, rows: &[LakeRow], f: fn(&LakeRow) -> u32) -> Result<ArrayRef, LakeError> {
    let values = rows
        .iter()
        .map(|r| {
            i32::try_from(f(r))
                .map_err(|_| LakeError::Conversion(format!("{name} {} exceeds int", f(r))))
        })
        .collect::<Result<Vec<i32>, _>>()?;
    Ok(Arc::new(Int32Array::from(values)))
}

fn timestamps(
    name: &str,
    rows: &[LakeRow],
    f: fn(&LakeRow) -> &str,
) -> Result<ArrayRef, LakeError> {
    let values = rows
        .iter()
        .map(|r| parse_timestamp(name, f(r)))
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(Arc::new(
        TimestampMillisecondArray::from(values).with_timezone(TIMESTAMP_TZ),
    ))
}

/// Epoch millis of a timestamp column value (RFC 3339, any offset).
pub fn parse_timestamp(column: &str, value: &str) -> Result<i64, LakeError> {
    parse_rfc3339_ms(value).map_err(|e| LakeError::Conversion(format!("{column}: {e}")))
}

/// Decodes a lake Parquet file into rows. Timestamps come back as RFC 3339
/// UTC millis (`…T10:00:01.000Z`), exactly as `LakeRow` holds them.
pub fn read_rows(parquet: &[u8]) -> Result<Vec<LakeRow>, LakeError> {
    let bytes = bytes::Bytes::copy_from_slice(parquet);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let mut rows = Vec::new();
    for batch in reader {
        rows_of_batch(&batch?, &mut rows)?;
    }
    Ok(rows)
}

fn rows_of_batch(b: &RecordBatch, out: &mut Vec<LakeRow>) -> Result<(), LakeError> {
    let col = |name: &str| {
        b.column_by_name(name)
            .ok_or_else(|| LakeError::Schema(format!("file has no column {name}")))
    };
    let strs = |name: &str| -> Result<&StringArray, LakeError> {
        col(name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| LakeError::Schema(format!("{name} is not a string column")))
    };
    let (event_id, event_type, viewer_id) =
        (strs("event_id")?, strs("event_type")?, strs("viewer_id")?);
    let (session_id, title_id, region) = (strs("session_id")?, strs("title_id")?, strs("region")?);
    let (shard, seq) = (strs("ingest_shard")?, strs("ingest_seq")?);
    let (platform, app, error) = (
        strs("device_platform")?,
        strs("app_version")?,
        strs("error_code")?,
    );
    let i64s = |name: &str| {
        col(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| LakeError::Schema(format!("{name} is not a bigint column")))
    };
    let (watched, stalled) = (i64s("watched_ms")?, i64s("stalled_ms")?);
    let (bitrate, position) = (i64s("bitrate_kbps")?, i64s("position_ms")?);
    // A v1 file (written before schema_version 2) has no startup_ms: all null.
    let startup = match b.column_by_name("startup_ms") {
        Some(_) => Some(i64s("startup_ms")?),
        None => None,
    };
    let i32s = |name: &str| {
        col(name)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| LakeError::Schema(format!("{name} is not an int column")))
    };
    let (schema_version, sub) = (i32s("schema_version")?, i32s("ingest_sub")?);
    let event_time = millis(col("event_time")?.as_ref())?;
    let ingest_time = millis(col("ingest_time")?.as_ref())?;

    let req = |a: &StringArray, i: usize, name: &str| -> Result<String, LakeError> {
        (!a.is_null(i))
            .then(|| a.value(i).to_string())
            .ok_or_else(|| LakeError::Schema(format!("null in required column {name}")))
    };
    let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
    let oi = |a: &Int64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
    let uint = |a: &Int32Array, i: usize, name: &str| {
        u32::try_from(a.value(i)).map_err(|_| LakeError::Schema(format!("{name} is negative")))
    };
    let ts = |v: &[Option<i64>], i: usize, name: &str| {
        v[i].map(format_rfc3339_ms)
            .ok_or_else(|| LakeError::Schema(format!("null in required column {name}")))
    };
    out.reserve(b.num_rows());
    for i in 0..b.num_rows() {
        out.push(LakeRow {
            event_id: req(event_id, i, "event_id")?,
            event_type: req(event_type, i, "event_type")?,
            event_time: ts(&event_time, i, "event_time")?,
            viewer_id: req(viewer_id, i, "viewer_id")?,
            session_id: req(session_id, i, "session_id")?,
            title_id: req(title_id, i, "title_id")?,
            region: req(region, i, "region")?,
            watched_ms: oi(watched, i),
            stalled_ms: oi(stalled, i),
            bitrate_kbps: oi(bitrate, i),
            position_ms: oi(position, i),
            device_platform: opt(platform, i),
            app_version: opt(app, i),
            error_code: opt(error, i),
            startup_ms: startup.and_then(|a| oi(a, i)),
            schema_version: uint(schema_version, i, "schema_version")?,
            ingest_time: ts(&ingest_time, i, "ingest_time")?,
            ingest_shard: req(shard, i, "ingest_shard")?,
            ingest_seq: req(seq, i, "ingest_seq")?,
            ingest_sub: uint(sub, i, "ingest_sub")?,
        });
    }
    Ok(())
}

/// Epoch millis of a timestamp column of any unit (INT96 files, e.g. written
/// by Firehose itself, decode as nanoseconds).
fn millis(a: &dyn Array) -> Result<Vec<Option<i64>>, LakeError> {
    fn scaled<T: arrow_array::types::ArrowPrimitiveType<Native = i64>>(
        a: &dyn Array,
        f: impl Fn(i64) -> i64,
    ) -> Vec<Option<i64>> {
        a.as_primitive::<T>().iter().map(|v| v.map(&f)).collect()
    }
    Ok(match a.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            scaled::<TimestampMillisecondType>(a, |v| v)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            scaled::<TimestampMicrosecondType>(a, |v| v.div_euclid(1_000))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            scaled::<TimestampNanosecondType>(a, |v| v.div_euclid(1_000_000))
        }
        DataType::Timestamp(TimeUnit::Second, _) => scaled::<TimestampSecondType>(a, |v| v * 1_000),
        t => return Err(LakeError::Schema(format!("{t} is not a timestamp column"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(i: u32) -> LakeRow {
        LakeRow {
            event_id: format!("e-{i}"),
            event_type: "heartbeat".into(),
            event_time: "2026-11-23T10:00:01.000Z".into(),
            viewer_id: format!("v-{}", i % 7),
            session_id: format!("s-{}", i % 11),
            title_id: "t-1".into(),
            region: "eu-west".into(),
            watched_ms: match i % 2 {
                0 => Some(30_000),
                _ => None,
            },
            stalled_ms: match i % 3 {
                0 => Some(120),
                _ => None,
            },
            bitrate_kbps: Some(4_500),
            position_ms: None,
            device_platform: (i % 2 == 1).then(|| "tv".to_string()),
            app_version: Some("3.2.1".into()),
            error_code: None,
            startup_ms: match i % 4 {
                0 => Some(1_200),
                _ => None,
            },
            schema_version: if i % 4 == 3 { 1 } else { 2 },
            ingest_time: "2026-11-23T10:00:05.123Z".into(),
            ingest_shard: "shardId-000000000001".into(),
            ingest_seq: format!("4960{i:020}"),
            ingest_sub: i % 3,
        }
    }

    #[test]
    fn rows_round_trip_through_parquet() {
        let rows: Vec<LakeRow> = (0..1000).map(row).collect();
        let bytes = write_rows(&rows).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        assert_eq!(read_rows(&bytes).unwrap(), rows);
    }

    #[test]
    fn a_v1_file_without_startup_ms_reads_back_as_null() {
        let lake = arrow_schema();
        let v1: Vec<Field> = (lake.fields().iter())
            .filter(|f| f.name() != "startup_ms")
            .map(|f| f.as_ref().clone())
            .collect();
        let rows: Vec<LakeRow> = (0..8).map(row).collect();
        let bytes = write_rows_with(Arc::new(arrow_schema::Schema::new(v1)), &rows).unwrap();
        let back = read_rows(&bytes).unwrap();
        assert!(back.iter().all(|r| r.startup_ms.is_none()));
        let without = |r: &LakeRow| LakeRow {
            startup_ms: None,
            ..r.clone()
        };
        assert_eq!(back, rows.iter().map(without).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_file_reads_back_empty() {
        assert!(read_rows(&write_rows(&[]).unwrap()).unwrap().is_empty());
    }

    #[test]
    fn timestamps_are_normalised_to_utc_millis() {
        let mut r = row(1);
        r.event_time = "2026-11-23T11:00:01+01:00".into();
        let back = read_rows(&write_rows(&[r]).unwrap()).unwrap();
        assert_eq!(back[0].event_time, "2026-11-23T10:00:01.000Z");
    }

    #[test]
    fn a_value_that_does_not_fit_is_a_conversion_error() {
        let mut r = row(1);
        r.event_time = "yesterday".into();
        assert!(matches!(write_rows(&[r]), Err(LakeError::Conversion(_))));
        let mut r = row(1);
        r.ingest_sub = u32::MAX;
        assert!(matches!(write_rows(&[r]), Err(LakeError::Conversion(_))));
    }

    #[test]
    fn files_are_snappy_with_bounded_row_groups_and_utc_millis() {
        use parquet::basic::{ConvertedType, LogicalType};
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let rows: Vec<LakeRow> = (0..(ROW_GROUP_ROWS as u32 + 10)).map(row).collect();
        let bytes = bytes::Bytes::from(write_rows(&rows).unwrap());
        let meta = SerializedFileReader::new(bytes).unwrap().metadata().clone();
        assert_eq!(meta.num_row_groups(), 2);
        assert_eq!(meta.row_group(0).num_rows(), ROW_GROUP_ROWS as i64);
        let rg = meta.row_group(0);
        assert!(rg
            .columns()
            .iter()
            .all(|c| c.compression() == Compression::SNAPPY));
        let ts = meta.file_metadata().schema_descr().column(2);
        assert_eq!(ts.name(), "event_time");
        assert_eq!(ts.converted_type(), ConvertedType::TIMESTAMP_MILLIS);
        assert!(matches!(
            ts.logical_type_ref(),
            Some(LogicalType::Timestamp(t)) if t.is_adjusted_to_u_t_c
        ));
        assert!(!meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .any(|c| c.name() == "dt"));
    }
}
