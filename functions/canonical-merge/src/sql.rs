//! The job's SQL: infra/athena/canonical_{table,watermark,merge}.sql (embedded)
//! and the statements built around them, rendered with checked values.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::JobError;

pub const TABLE_SQL: &str = include_str!("../../../infra/athena/canonical_table.sql");
pub const WATERMARK_SQL: &str = include_str!("../../../infra/athena/canonical_watermark.sql");
pub const MERGE_SQL: &str = include_str!("../../../infra/athena/canonical_merge.sql");
pub const ADD_COLUMNS_SQL: &str = include_str!("../../../infra/athena/canonical_add_columns.sql");

/// The format the templates' `CAST('...' AS TIMESTAMP)` accept (UTC).
pub const TS_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

pub fn ts(t: DateTime<Utc>) -> String {
    t.format(TS_FORMAT).to_string()
}

/// Replaces every `{{key}}`; a placeholder left over is an error (a value
/// missing, or a typo in a template), never sent to Athena.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String, JobError> {
    let mut out = template.to_string();
    for (k, v) in values {
        if v.contains('\'') || v.contains("{{") {
            return Err(JobError::Template(format!("unsafe value for {k}: {v:?}")));
        }
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    if let Some(at) = out.find("{{") {
        let name: String = out[at..].chars().take_while(|c| *c != '\n').collect();
        return Err(JobError::Template(format!("unresolved placeholder {name}")));
    }
    Ok(out)
}

/// The USING (...) part of the MERGE: between the selection markers.
pub fn selection(merge: &str) -> Result<&str, JobError> {
    let begin = "-- selection:begin";
    let a = merge
        .find(begin)
        .ok_or_else(|| JobError::Template("selection:begin missing".into()))?;
    let b = merge
        .find("-- selection:end")
        .ok_or_else(|| JobError::Template("selection:end missing".into()))?;
    Ok(&merge[a + begin.len()..b])
}

/// The window's placeholders: (watermark, horizon] and the watermark's
/// arrival day and hour (the raw table's partitions).
pub fn window_values(
    watermark: DateTime<Utc>,
    horizon: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    vec![
        ("watermark", ts(watermark)),
        ("horizon", ts(horizon)),
        ("dt_from", watermark.format("%Y-%m-%d").to_string()),
        ("hour_from", watermark.format("%H").to_string()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

/// The event days (UTC) of the window's winners.
pub fn days_sql(watermark: DateTime<Utc>, horizon: DateTime<Utc>) -> Result<String, JobError> {
    let sel = render(
        selection(MERGE_SQL)?,
        &pairs(&window_values(watermark, horizon)),
    )?;
    Ok(format!(
        "SELECT DISTINCT CAST(CAST(event_time AS date) AS varchar) AS event_day\nFROM ({}) AS s\nWHERE event_time IS NOT NULL\nORDER BY 1",
        sel.trim()
    ))
}

/// `{{target_days}}`: an OR of `[day, day + 1)` ranges on `t.event_time`.
pub fn target_days(days: &[NaiveDate]) -> Result<String, JobError> {
    if days.is_empty() {
        return Err(JobError::Template("no target days".into()));
    }
    Ok(days
        .iter()
        .map(|d| {
            let next = *d + Duration::days(1);
            format!(
                "(t.event_time >= TIMESTAMP '{d} 00:00:00' AND t.event_time < TIMESTAMP '{next} 00:00:00')"
            )
        })
        .collect::<Vec<_>>()
        .join(" OR "))
}

pub fn merge_sql(
    watermark: DateTime<Utc>,
    horizon: DateTime<Utc>,
    days: &[NaiveDate],
) -> Result<String, JobError> {
    let mut v = window_values(watermark, horizon);
    let target = target_days(days)?.replace('\'', "\u{0}");
    v.push(("target_days", target));
    // target_days holds quotes (TIMESTAMP literals of checked dates): render
    // with a stand-in, then restore.
    Ok(render(MERGE_SQL, &pairs(&v))?.replace('\u{0}', "'"))
}

pub fn table_sql(bucket: &str, prefix: &str, snapshot_age_s: u64) -> Result<String, JobError> {
    let age = snapshot_age_s.to_string();
    render(
        TABLE_SQL,
        &[
            ("bucket", bucket),
            ("canonical_prefix", prefix),
            ("snapshot_age_s", &age),
        ],
    )
}

/// (name, type) of the columns canonical_table.sql declares, in order.
pub fn table_columns() -> Result<Vec<(&'static str, &'static str)>, JobError> {
    let bad = || JobError::Template("canonical_table.sql: no column list".into());
    let open = "events_canonical (";
    let start = TABLE_SQL.find(open).ok_or_else(bad)? + open.len();
    let end = start + TABLE_SQL[start..].find("\n)\n").ok_or_else(bad)?;
    TABLE_SQL[start..end]
        .split(',')
        .map(|c| {
            let mut w = c.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some(n), Some(t), None) => Ok((n, t)),
                _ => Err(bad()),
            }
        })
        .collect()
}

/// The columns the table has now (Athena's information_schema, lower case).
pub fn columns_sql(table: &str) -> Result<String, JobError> {
    let (schema, name) = table
        .split_once('.')
        .filter(|(s, n)| ![s, n].iter().any(|p| p.is_empty() || p.contains('\'')))
        .ok_or_else(|| JobError::Template(format!("table {table:?} is not schema.name")))?;
    Ok(format!(
        "SELECT column_name FROM information_schema.columns \
         WHERE table_schema = '{schema}' AND table_name = '{name}'"
    ))
}

/// ALTER TABLE ... ADD COLUMNS for `missing` (name, type) pairs.
pub fn add_columns_sql(missing: &[(&str, &str)]) -> Result<String, JobError> {
    if missing.is_empty() {
        return Err(JobError::Template("no columns to add".into()));
    }
    let cols: Vec<String> = missing.iter().map(|(n, t)| format!("{n} {t}")).collect();
    render(ADD_COLUMNS_SQL, &[("columns", &cols.join(", "))])
}

pub fn watermark_sql(since: DateTime<Utc>, recent: DateTime<Utc>) -> Result<String, JobError> {
    render(
        WATERMARK_SQL,
        &[("since", &ts(since)), ("recent", &ts(recent))],
    )
}

pub fn optimize_sql(table: &str, since: NaiveDate) -> String {
    format!(
        "OPTIMIZE {table} REWRITE DATA USING BIN_PACK WHERE event_time >= TIMESTAMP '{since} 00:00:00'"
    )
}

pub fn vacuum_sql(table: &str) -> String {
    format!("VACUUM {table}")
}
