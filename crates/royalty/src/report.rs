//! The royalty report of one close: rows, minutes, CSV and Parquet.
//!
//! minutes = watched_ms / 60000 rendered with exactly 3 decimals, rounded half
//! up, computed from the exact integer sum (thousandths of a minute are
//! watched_ms / 60), so no engine's float or decimal rounding leaks in. The
//! exact watched_ms is in the report too. Output is a pure function of the
//! rows: fixed row order, no timestamps, fixed Parquet writer metadata.

use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::engine::Rows;
use crate::params::{day, parse_day};
use crate::RoyaltyError;

pub const CSV_HEADER: &str = "title_id,event_day,minutes,watched_ms,events,close_id";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportRow {
    pub event_day: NaiveDate,
    pub title_id: String,
    pub watched_ms: i64,
    pub events: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub close_id: NaiveDate,
    /// Sorted by (event_day, title_id).
    pub rows: Vec<ReportRow>,
}

/// Thousandths of a minute, rounded half up (watched_ms >= 0).
pub fn minutes_thousandths(watched_ms: i64) -> i64 {
    (watched_ms + 30).div_euclid(60)
}

/// `watched_ms / 60000` with 3 decimals, rounded half up.
pub fn format_minutes(watched_ms: i64) -> String {
    let t = minutes_thousandths(watched_ms);
    format!("{}.{:03}", t.div_euclid(1000), t.rem_euclid(1000))
}

/// One CSV field (RFC 4180: quoted when it holds a comma, quote or newline).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Report {
    pub fn new(close_id: NaiveDate, mut rows: Vec<ReportRow>) -> Self {
        rows.sort();
        Report { close_id, rows }
    }

    /// Parses the result of royalty_report.sql (every value as text, as
    /// Athena's GetQueryResults returns them).
    pub fn from_query(close_id: NaiveDate, result: &Rows) -> Result<Self, RoyaltyError> {
        let (t, d, w, e) = (
            result.column("title_id")?,
            result.column("event_day")?,
            result.column("watched_ms")?,
            result.column("events")?,
        );
        let int = |v: &Option<String>, name: &str| -> Result<i64, RoyaltyError> {
            v.as_deref()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| RoyaltyError::Report(format!("{name} {v:?} is not an integer")))
        };
        let rows = result
            .rows
            .iter()
            .map(|r| {
                let title_id = r[t]
                    .clone()
                    .ok_or_else(|| RoyaltyError::Report("null title_id".into()))?;
                let event_day = parse_day(r[d].as_deref().unwrap_or_default())
                    .map_err(|err| RoyaltyError::Report(err.to_string()))?;
                Ok(ReportRow {
                    event_day,
                    title_id,
                    watched_ms: int(&r[w], "watched_ms")?,
                    events: int(&r[e], "events")?,
                })
            })
            .collect::<Result<Vec<_>, RoyaltyError>>()?;
        Ok(Report::new(close_id, rows))
    }

    pub fn total_watched_ms(&self) -> i64 {
        self.rows.iter().map(|r| r.watched_ms).sum()
    }

    pub fn total_events(&self) -> i64 {
        self.rows.iter().map(|r| r.events).sum()
    }

    pub fn to_csv(&self) -> String {
        let close_id = day(self.close_id);
        let mut out = format!("{CSV_HEADER}\n");
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                csv_field(&r.title_id),
                day(r.event_day),
                format_minutes(r.watched_ms),
                r.watched_ms,
                r.events,
                close_id
            ));
        }
        out
    }

    pub fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("title_id", DataType::Utf8, false),
            Field::new("event_day", DataType::Date32, false),
            Field::new("minutes", DataType::Decimal128(18, 3), false),
            Field::new("watched_ms", DataType::Int64, false),
            Field::new("events", DataType::Int64, false),
            Field::new("close_id", DataType::Date32, false),
        ]))
    }

    /// The report as one Parquet file (same columns as the CSV).
    pub fn to_parquet(&self) -> Result<Vec<u8>, RoyaltyError> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let days = |d: NaiveDate| (d - epoch).num_days() as i32;
        let rows = &self.rows;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.title_id.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(Date32Array::from_iter_values(
                rows.iter().map(|r| days(r.event_day)),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(
                    rows.iter()
                        .map(|r| minutes_thousandths(r.watched_ms) as i128),
                )
                .with_precision_and_scale(18, 3)?,
            ),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.watched_ms),
            )),
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.events))),
            Arc::new(Date32Array::from_iter_values(
                rows.iter().map(|_| days(self.close_id)),
            )),
        ];
        let batch = RecordBatch::try_new(Self::schema(), columns)?;
        // A fixed created_by (no version, no time) keeps re-runs byte-identical.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("playback royalty".into())
            .build();
        let mut out = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut out, Self::schema(), Some(props))?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    fn row(day: &str, title: &str, ms: i64, events: i64) -> ReportRow {
        ReportRow {
            event_day: d(day),
            title_id: title.into(),
            watched_ms: ms,
            events,
        }
    }

    #[test]
    fn minutes_have_three_decimals_rounded_half_up() {
        assert_eq!(format_minutes(0), "0.000");
        assert_eq!(format_minutes(29), "0.000");
        assert_eq!(format_minutes(30), "0.001"); // 0.0005 rounds up
        assert_eq!(format_minutes(60_000), "1.000");
        assert_eq!(format_minutes(90_000), "1.500");
        assert_eq!(format_minutes(123_456_789), "2057.613"); // 2057.61315
        assert_eq!(format_minutes(59_999_969), "999.999");
        assert_eq!(format_minutes(59_999_970), "1000.000"); // 999.9995 rounds up
    }

    #[test]
    fn csv_is_sorted_quoted_and_stamped_with_the_close() {
        let r = Report::new(
            d("2026-03-02"),
            vec![
                row("2026-03-02", "b", 60_000, 1),
                row("2026-03-01", "z, \"the\" film", 30, 2),
                row("2026-03-02", "a", 90_000, 3),
            ],
        );
        assert_eq!(
            r.to_csv(),
            "title_id,event_day,minutes,watched_ms,events,close_id\n\
             \"z, \"\"the\"\" film\",2026-03-01,0.001,30,2,2026-03-02\n\
             a,2026-03-02,1.500,90000,3,2026-03-02\n\
             b,2026-03-02,1.000,60000,1,2026-03-02\n"
        );
        assert_eq!((r.total_watched_ms(), r.total_events()), (150_030, 6));
    }

    #[test]
    fn parquet_is_deterministic() {
        let r = Report::new(d("2026-03-02"), vec![row("2026-03-01", "t", 61_000, 2)]);
        let a = r.to_parquet().unwrap();
        assert_eq!(a, r.to_parquet().unwrap());
        assert_eq!(&a[..4], b"PAR1");
        let empty = Report::new(d("2026-03-02"), vec![]);
        assert!(empty.to_csv().ends_with("close_id\n"));
        assert!(empty.to_parquet().is_ok());
    }

    #[test]
    fn parses_the_report_query_result() {
        let rows = Rows {
            columns: ["title_id", "event_day", "watched_ms", "events"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                vec![
                    Some("t2".into()),
                    Some("2026-03-01".into()),
                    Some("5".into()),
                    Some("1".into()),
                ],
                vec![
                    Some("t1".into()),
                    Some("2026-03-01".into()),
                    Some("7".into()),
                    Some("2".into()),
                ],
            ],
        };
        let r = Report::from_query(d("2026-03-01"), &rows).unwrap();
        assert_eq!(
            r.rows,
            vec![row("2026-03-01", "t1", 7, 2), row("2026-03-01", "t2", 5, 1)]
        );
        let mut bad = rows.clone();
        bad.rows[0][2] = Some("x".into());
        assert!(Report::from_query(d("2026-03-01"), &bad).is_err());
    }
}
