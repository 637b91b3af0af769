//! Where the lake Parquet comes from: a local directory (as the local landing
//! or a download of the bucket lays it out) or S3, by ingest-day partitions
//! `<prefix>dt=YYYY-MM-DD/hour=HH/*.parquet`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use lake::{read_rows, LakeRow, S3Store};

use crate::BackfillError;

/// Rows read and the files they came from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub rows: Vec<LakeRow>,
    pub files: Vec<String>,
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Result<NaiveDate, BackfillError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| BackfillError::Usage(format!("{s:?} is not a YYYY-MM-DD day")))
}

/// Every day from `from` to `to`, both included.
pub fn days(from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, BackfillError> {
    if from > to {
        return Err(BackfillError::Usage(format!(
            "--dt-from {from} is after --dt-to {to}"
        )));
    }
    Ok(from.iter_days().take_while(|d| *d <= to).collect())
}

/// `s3://bucket/prefix` -> (bucket, prefix ending in `/`, or empty).
pub fn parse_s3_url(url: &str) -> Result<(String, String), BackfillError> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| BackfillError::Usage(format!("{url:?} is not an s3://bucket/prefix URL")))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(BackfillError::Usage(format!("{url:?} names no bucket")));
    }
    let prefix = match prefix.trim_start_matches('/') {
        "" => String::new(),
        p if p.ends_with('/') => p.to_string(),
        p => format!("{p}/"),
    };
    Ok((bucket.to_string(), prefix))
}

/// The `dt=` partition of a path, if it has one.
fn dt_of(path: &Path) -> Option<NaiveDate> {
    path.components().find_map(|c| {
        let s = c.as_os_str().to_str()?;
        NaiveDate::parse_from_str(s.strip_prefix("dt=")?, "%Y-%m-%d").ok()
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), BackfillError> {
    let entries = std::fs::read_dir(dir).map_err(|e| BackfillError::io(dir.display(), e))?;
    for entry in entries {
        let path = entry
            .map_err(|e| BackfillError::io(dir.display(), e))?
            .path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every `.parquet` under `dir` (recursively); with `days`, only those under a
/// `dt=` partition in the list.
pub fn read_dir(dir: &Path, days: Option<&[NaiveDate]>) -> Result<Loaded, BackfillError> {
    if !dir.is_dir() {
        return Err(BackfillError::Usage(format!(
            "--from-dir {} is not a directory",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut loaded = Loaded::default();
    for f in files {
        if let Some(days) = days {
            if !dt_of(&f).is_some_and(|d| days.contains(&d)) {
                continue;
            }
        }
        let bytes = std::fs::read(&f).map_err(|e| BackfillError::io(f.display(), e))?;
        let rows = read_rows(&bytes).map_err(|e| BackfillError::io(f.display(), e))?;
        loaded.rows.extend(rows);
        loaded.files.push(f.display().to_string());
    }
    Ok(loaded)
}

/// Every `.parquet` object under `<prefix>dt=<day>/` for each day.
pub async fn read_s3(
    store: &S3Store,
    prefix: &str,
    days: &[NaiveDate],
) -> Result<Loaded, BackfillError> {
    let mut loaded = Loaded::default();
    for day in days {
        let part = format!("{prefix}dt={}/", day.format("%Y-%m-%d"));
        for key in store.list_keys(&part).await? {
            if !key.ends_with(".parquet") {
                continue;
            }
            let bytes = store.get(&key).await?;
            let rows = read_rows(&bytes)
                .map_err(|e| BackfillError::io(format!("s3://{}/{key}", store.bucket()), e))?;
            loaded.rows.extend(rows);
            loaded.files.push(format!("s3://{}/{key}", store.bucket()));
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_days_and_partitions() {
        assert_eq!(
            parse_s3_url("s3://lake/events").unwrap(),
            ("lake".into(), "events/".into())
        );
        assert_eq!(parse_s3_url("s3://lake").unwrap().1, "");
        assert!(parse_s3_url("lake/events").is_err());
        assert!(parse_s3_url("s3:///x").is_err());
        let d = days(
            parse_day("2026-02-27").unwrap(),
            parse_day("2026-03-01").unwrap(),
        );
        assert_eq!(d.unwrap().len(), 3);
        assert!(days(
            parse_day("2026-03-02").unwrap(),
            parse_day("2026-03-01").unwrap()
        )
        .is_err());
        assert!(parse_day("2026-13-01").is_err());
        let p = Path::new("/x/events/dt=2026-11-23/hour=10/a.parquet");
        assert_eq!(dt_of(p), Some(parse_day("2026-11-23").unwrap()));
    }
}
