//! The object-store seam of the landing: Firehose only ever PUTs whole objects,
//! so that is the whole trait. `MemoryStore` for unit tests (with injectable
//! failures), `S3Store` over aws-sdk-s3 (endpoint from the caller's config).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;

use crate::LakeError;

pub trait ObjectStore: Send + Sync {
    /// Writes the whole object (overwriting a previous one of the same key).
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), LakeError>> + Send;
}

/// In-memory objects shared between clones (a test keeps one to inspect what
/// the emulator wrote).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    objects: BTreeMap<String, Vec<u8>>,
    failing_puts: usize,
    put_attempts: usize,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `n` puts fail (as an unreachable or throttling S3 would).
    pub fn fail_next_puts(&self, n: usize) {
        self.lock().failing_puts = n;
    }

    pub fn put_attempts(&self) -> usize {
        self.lock().put_attempts
    }

    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().objects.clone()
    }

    pub fn keys_under(&self, prefix: &str) -> Vec<String> {
        self.lock()
            .objects
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().objects.get(key).cloned()
    }
}

impl ObjectStore for MemoryStore {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), LakeError> {
        let mut inner = self.lock();
        inner.put_attempts += 1;
        if inner.failing_puts > 0 {
            inner.failing_puts -= 1;
            return Err(LakeError::Store {
                key: key.to_string(),
                message: "injected failure".into(),
            });
        }
        inner.objects.insert(key.to_string(), body);
        Ok(())
    }
}

/// S3 bucket through aws-sdk-s3. Against an emulator the caller's config sets
/// the endpoint (AWS_ENDPOINT_URL) and, for moto, path-style addressing.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn store_err(key: &str, e: impl std::error::Error) -> LakeError {
    LakeError::Store {
        key: key.to_string(),
        message: DisplayErrorContext(e).to_string(),
    }
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Every key under `prefix` (all pages), in S3's lexical order.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| store_err(prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
        }
        Ok(keys)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, LakeError> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| store_err(key, e))?;
        let body = resp.body.collect().await.map_err(|e| store_err(key, e))?;
        Ok(body.into_bytes().to_vec())
    }
}

impl S3Store {
    /// Writes the whole object with its content type (`text/csv`, ...).
    pub async fn put_typed(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<(), LakeError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .set_content_type(content_type.map(str::to_string))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| store_err(key, e))?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> Result<(), LakeError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| store_err(key, e))?;
        Ok(())
    }
}

impl ObjectStore for S3Store {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), LakeError> {
        self.put_typed(key, body, None).await
    }
}
