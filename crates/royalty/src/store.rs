//! The S3 objects of the close: ledger partitions and reports.
//!
//! Layout (prefixes from the configuration):
//!   <ledger_prefix>close_id=YYYY-MM-DD/...parquet    paid events of a close
//!   <reports_prefix>reports/close_id=YYYY-MM-DD/report.csv|report.parquet

use aws_sdk_s3::Client;
use chrono::NaiveDate;
use lake::S3Store;

use crate::params::{day, parse_day};
use crate::RoyaltyError;

/// The close's objects in the lake bucket, through the lake's S3 store (one
/// S3 wrapper in the workspace).
#[derive(Debug, Clone)]
pub struct Store {
    s3: S3Store,
}

pub fn ledger_partition(ledger_prefix: &str, close: NaiveDate) -> String {
    format!("{ledger_prefix}close_id={}/", day(close))
}

pub fn report_dir(reports_prefix: &str, close: NaiveDate) -> String {
    format!("{reports_prefix}reports/close_id={}/", day(close))
}

impl Store {
    pub fn new(client: Client, bucket: &str) -> Self {
        Store {
            s3: S3Store::new(client, bucket),
        }
    }

    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), RoyaltyError> {
        Ok(self.s3.put_typed(key, body, Some(content_type)).await?)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, RoyaltyError> {
        Ok(self.s3.get(key).await?)
    }

    /// Every key under `prefix`, sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, RoyaltyError> {
        let mut keys = self.s3.list_keys(prefix).await?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes every object under `prefix` (a ledger partition before it is
    /// rewritten: UNLOAD refuses a non-empty location, and a re-run must replace).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, RoyaltyError> {
        let keys = self.list(prefix).await?;
        for key in &keys {
            self.s3.delete(key).await?;
        }
        Ok(keys.len())
    }

    /// Days whose close finished (its report.csv exists), ascending.
    pub async fn closed_days(&self, reports_prefix: &str) -> Result<Vec<NaiveDate>, RoyaltyError> {
        let root = format!("{reports_prefix}reports/close_id=");
        let mut days: Vec<NaiveDate> = self
            .list(&root)
            .await?
            .iter()
            .filter_map(|k| k.strip_prefix(&root)?.strip_suffix("/report.csv"))
            .filter_map(|d| parse_day(d).ok())
            .collect();
        days.sort();
        days.dedup();
        Ok(days)
    }
}
