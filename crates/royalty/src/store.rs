//! The S3 objects of the close: ledger partitions and reports.
//!
//! Layout (prefixes from the configuration):
//!   <ledger_prefix>close_id=YYYY-MM-DD/...parquet    paid events of a close
//!   <reports_prefix>reports/close_id=YYYY-MM-DD/report.csv|report.parquet

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use chrono::NaiveDate;

use crate::params::{day, parse_day};
use crate::RoyaltyError;

#[derive(Debug, Clone)]
pub struct Store {
    pub client: Client,
    pub bucket: String,
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
            client,
            bucket: bucket.into(),
        }
    }

    fn err<E: std::error::Error>(&self, op: &'static str, key: &str, e: E) -> RoyaltyError {
        RoyaltyError::S3 {
            op,
            bucket: self.bucket.clone(),
            key: key.into(),
            message: DisplayErrorContext(&e).to_string(),
        }
    }

    pub async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), RoyaltyError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.err("PutObject", key, e))?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, RoyaltyError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.err("GetObject", key, e))?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| self.err("GetObject", key, e))?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Every key under `prefix`, sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, RoyaltyError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.err("ListObjectsV2", prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Deletes every object under `prefix` (a ledger partition before it is
    /// rewritten: UNLOAD refuses a non-empty location, and a re-run must replace).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, RoyaltyError> {
        let keys = self.list(prefix).await?;
        for key in &keys {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| self.err("DeleteObject", key, e))?;
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
