//! The Arrow schema of the lake's Parquet files, built from
//! events/lake-columns.json: the same file the Glue table (infra) is generated
//! from, so the local files and the AWS table cannot drift.
//!
//! Partition keys (dt, hour) are not columns of the file: they live in the
//! hive-style key (`dt=…/hour=…`), as in the objects Firehose writes.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use playback_domain::lake::LakeRow;
use serde::Deserialize;

use crate::LakeError;

/// events/lake-columns.json, embedded so a binary needs no repository checkout.
pub const LAKE_COLUMNS_JSON: &str = include_str!("../../../events/lake-columns.json");

/// The time zone of timestamp columns: values are UTC instants, which Parquet
/// records as `TIMESTAMP(MILLIS, isAdjustedToUTC=true)` (converted type
/// TIMESTAMP_MILLIS), read by Athena as `timestamp` and by DuckDB as
/// `TIMESTAMP WITH TIME ZONE`.
pub const TIMESTAMP_TZ: &str = "UTC";

/// A Glue column type as written in lake-columns.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlueType {
    String,
    Bigint,
    Int,
    Timestamp,
}

impl GlueType {
    pub fn arrow_type(self) -> DataType {
        match self {
            GlueType::String => DataType::Utf8,
            GlueType::Bigint => DataType::Int64,
            GlueType::Int => DataType::Int32,
            GlueType::Timestamp => {
                DataType::Timestamp(TimeUnit::Millisecond, Some(TIMESTAMP_TZ.into()))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub glue_type: GlueType,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LakeColumns {
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
}

/// Parses a lake-columns document (the embedded one is [`lake_columns`]).
pub fn parse_lake_columns(text: &str) -> Result<LakeColumns, LakeError> {
    let cols: LakeColumns = serde_json::from_str(text)
        .map_err(|e| LakeError::Schema(format!("lake-columns.json: {e}")))?;
    let expected = LakeRow::column_names();
    let names: Vec<&str> = cols.columns.iter().map(|c| c.name.as_str()).collect();
    if names != expected {
        return Err(LakeError::Schema(format!(
            "lake-columns.json columns {names:?} differ from LakeRow's {expected:?}"
        )));
    }
    Ok(cols)
}

/// The embedded lake columns (validated against `LakeRow` once).
pub fn lake_columns() -> &'static LakeColumns {
    static COLS: OnceLock<LakeColumns> = OnceLock::new();
    COLS.get_or_init(|| {
        parse_lake_columns(LAKE_COLUMNS_JSON).expect("embedded lake-columns.json is valid")
    })
}

/// Names of the `Option` fields of `LakeRow`: the nullable columns. Derived
/// from the type itself (a row with every option unset serialises them as
/// null), so a field made optional in the contract becomes nullable here.
fn nullable_columns() -> Vec<String> {
    let probe = LakeRow::default();
    match serde_json::to_value(&probe) {
        Ok(serde_json::Value::Object(m)) => m
            .into_iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// Builds the Arrow schema of a lake-columns document.
pub fn arrow_schema_of(cols: &LakeColumns) -> Schema {
    let nullable = nullable_columns();
    Schema::new(
        cols.columns
            .iter()
            .map(|c| {
                Field::new(
                    &c.name,
                    c.glue_type.arrow_type(),
                    nullable.contains(&c.name),
                )
            })
            .collect::<Vec<_>>(),
    )
}

/// The Arrow schema of the lake's Parquet files (built once).
pub fn arrow_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Arc::new(arrow_schema_of(lake_columns())))
        .clone()
}

/// The partition key names (`dt`, `hour`), in path order.
pub fn partition_keys() -> Vec<&'static str> {
    lake_columns()
        .partition_keys
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/lake-columns.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn schema_equals_the_published_columns() {
        let v = published();
        let schema = arrow_schema();
        let cols = v["columns"].as_array().unwrap();
        assert_eq!(schema.fields().len(), cols.len());
        for (f, c) in schema.fields().iter().zip(cols) {
            assert_eq!(f.name(), c["name"].as_str().unwrap());
            let want = match c["type"].as_str().unwrap() {
                "string" => DataType::Utf8,
                "bigint" => DataType::Int64,
                "int" => DataType::Int32,
                "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                other => panic!("unknown Glue type {other}"),
            };
            assert_eq!(f.data_type(), &want, "column {}", f.name());
        }
    }

    #[test]
    fn partition_keys_are_not_file_columns() {
        assert_eq!(partition_keys(), ["dt", "hour"]);
        for k in partition_keys() {
            assert!(arrow_schema().field_with_name(k).is_err());
        }
    }

    #[test]
    fn contract_fields_are_required_and_optional_ones_nullable() {
        let s = arrow_schema();
        for name in [
            "event_id",
            "event_time",
            "title_id",
            "ingest_time",
            "ingest_sub",
        ] {
            assert!(!s.field_with_name(name).unwrap().is_nullable(), "{name}");
        }
        for name in ["watched_ms", "device_platform", "error_code"] {
            assert!(s.field_with_name(name).unwrap().is_nullable(), "{name}");
        }
    }

    #[test]
    fn a_document_that_drifts_from_the_row_is_refused() {
        let bad = LAKE_COLUMNS_JSON.replace("\"viewer_id\"", "\"viewer\"");
        assert!(matches!(
            parse_lake_columns(&bad),
            Err(LakeError::Schema(_))
        ));
    }
}
