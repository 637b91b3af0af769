//! The hot tier on Athena: after each merge, every rollup of
//! infra/athena/hot/ is brought up to the canonical table: its watermark (the
//! latest canonical arrival its rows reflect) is read, and its MERGE adds the
//! canonical rows that arrived after it, the new watermark committed with them.
//! The daily optimize drops hours older than the hot window. scripts/hot_tier.py
//! runs the same files locally.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::sql::render;
use crate::JobError;

pub const TABLES_SQL: &str = include_str!("../../../infra/athena/hot/tables.sql");
pub const WATERMARK_SQL: &str = include_str!("../../../infra/athena/hot/watermark.sql");
pub const EXPIRE_SQL: &str = include_str!("../../../infra/athena/hot/expire.sql");
/// (table, its MERGE).
pub const ROLLUPS: [(&str, &str); 3] = [
    (
        "hot_title_region_hour",
        include_str!("../../../infra/athena/hot/title_region_hour.sql"),
    ),
    (
        "hot_viewer_sessions_hour",
        include_str!("../../../infra/athena/hot/viewer_sessions_hour.sql"),
    ),
    (
        "hot_errors_hour",
        include_str!("../../../infra/athena/hot/errors_hour.sql"),
    ),
];
/// Days the hot tier holds (the hot_*.sql named queries read the last 7).
pub const HOT_DAYS: i64 = 7;

/// The first hour of the hot window: midnight UTC, HOT_DAYS before today.
pub fn hot_from(now: DateTime<Utc>) -> NaiveDateTime {
    (now.date_naive() - Duration::days(HOT_DAYS)).and_time(chrono::NaiveTime::MIN)
}

/// One CREATE TABLE IF NOT EXISTS per rollup.
pub fn tables_sql(bucket: &str, hot_prefix: &str) -> Result<Vec<String>, JobError> {
    let all = render(
        TABLES_SQL,
        &[("bucket", bucket), ("hot_prefix", hot_prefix)],
    )?;
    Ok(all
        .split("\n;\n")
        .map(|s| s.trim().to_string())
        .filter(|s| s.contains("CREATE TABLE"))
        .collect())
}

pub fn watermark_sql(table: &str) -> Result<String, JobError> {
    render(WATERMARK_SQL, &[("rollup", table)])
}

/// Microseconds, as Iceberg stores them: a watermark rounded down would make
/// the additive MERGEs count the rows in the rounding gap twice.
pub fn ts_exact(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

fn window_start(now: DateTime<Utc>) -> String {
    hot_from(now).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn merge_sql(
    merge: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, JobError> {
    render(
        merge,
        &[
            ("since", &ts_exact(since)),
            ("hot_from", &window_start(now)),
        ],
    )
}

/// Hours that left the hot window, except rows holding the watermark.
pub fn expire_sql(
    table: &str,
    watermark: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, JobError> {
    render(
        EXPIRE_SQL,
        &[
            ("rollup", table),
            ("hot_from", &window_start(now)),
            ("watermark", &ts_exact(watermark)),
        ],
    )
}
