//! infra/pipeline.json as typed structs: the one topology the CDK app and this
//! runner both read, so names, batch sizes and windows cannot drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// Consumer names used as keys of `consumers` in pipeline.json.
pub const QOE_ALERTS: &str = "qoe-alerts";
pub const SESSION_FEATURES: &str = "session-features";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub stream: StreamSpec,
    pub consumers: BTreeMap<String, ConsumerSpec>,
    pub sre_buffer: SreBufferSpec,
    pub poison_dlq: String,
    pub tables: Tables,
    pub alerts: AlertsSpec,
    pub sre: SreSpec,
    pub features: FeaturesSpec,
    pub lake: LakeSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamSpec {
    pub name: String,
    pub mode: String,
    pub provisioned_shards: u32,
    pub local_shards: u32,
    pub retention_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerSpec {
    pub efo_consumer: String,
    pub batch_size: usize,
    pub batching_window_s: u64,
    #[serde(default)]
    pub tumbling_window_s: Option<u64>,
    pub parallelization_factor: u32,
    /// -1 (Lambda's "infinite") is accepted.
    pub max_retry_attempts: i64,
    pub max_record_age_s: i64,
    pub bisect_on_error: bool,
    pub memory_mb: u32,
    pub timeout_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SreBufferSpec {
    pub queue: String,
    pub dlq: String,
    pub max_receive_count: u32,
    pub visibility_timeout_s: u32,
    pub batch_size: usize,
    pub batching_window_s: u64,
    pub max_concurrency: u32,
    pub memory_mb: u32,
    pub timeout_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    pub features: TableSpec,
    pub windows: TableSpec,
    pub alerts: TableSpec,
    pub sre: TableSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSpec {
    pub name: String,
    pub pk: String,
    #[serde(default)]
    pub sk: Option<String>,
    /// DynamoDB scalar type of the sort key: "S" or "N".
    #[serde(default)]
    pub sk_type: Option<String>,
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsSpec {
    pub topic: String,
    pub baseline_ratio: f64,
    pub margin: f64,
    pub min_sessions: u64,
    pub min_sample_ms: u64,
}

/// The SRE rule, defined once in the domain crate.
pub type SreSpec = playback_domain::sre::SreRule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturesSpec {
    pub ttl_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LakeSpec {
    pub bucket: String,
    pub prefix: String,
    pub error_prefix: String,
    pub reports_prefix: String,
    pub firehose: String,
    pub buffer_mb: u64,
    pub buffer_s: u64,
    pub glue_database: String,
    pub glue_table: String,
    pub athena_workgroup: String,
    pub athena_bytes_scanned_cutoff: u64,
}

/// Settings that make a local run quick to observe; `None` keeps pipeline.json's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalOverrides {
    pub tumbling_window_s: Option<u64>,
    pub batching_window_s: Option<u64>,
    pub visibility_timeout_s: Option<u32>,
    pub max_receive_count: Option<u32>,
    pub max_retry_attempts: Option<i64>,
    pub firehose_buffer_s: Option<u64>,
}

impl LocalOverrides {
    /// What `playback-local run` and the tests use: windows and buffers of seconds.
    pub fn quick() -> Self {
        LocalOverrides {
            tumbling_window_s: Some(5),
            batching_window_s: Some(1),
            visibility_timeout_s: Some(5),
            max_receive_count: None,
            max_retry_attempts: Some(3),
            firehose_buffer_s: Some(5),
        }
    }
}

impl Topology {
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Topology {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Topology {
            path: path.display().to_string(),
            why: e.to_string(),
        })
    }

    /// Loads the repository's infra/pipeline.json.
    pub fn load_default() -> Result<Self, Error> {
        Self::load(default_path()?)
    }

    pub fn consumer(&self, name: &str) -> Result<&ConsumerSpec, Error> {
        self.consumers
            .get(name)
            .ok_or_else(|| Error::Config(format!("pipeline.json has no consumer {name:?}")))
    }

    /// The same topology with every resource name prefixed, so concurrent runs
    /// and tests never share a stream, table, queue or bucket.
    pub fn prefixed(&self, prefix: &str) -> Topology {
        let p = |name: &str| format!("{prefix}{name}");
        let mut t = self.clone();
        t.stream.name = p(&t.stream.name);
        for c in t.consumers.values_mut() {
            c.efo_consumer = p(&c.efo_consumer);
        }
        t.sre_buffer.queue = p(&t.sre_buffer.queue);
        t.sre_buffer.dlq = p(&t.sre_buffer.dlq);
        t.poison_dlq = p(&t.poison_dlq);
        for table in [
            &mut t.tables.features,
            &mut t.tables.windows,
            &mut t.tables.alerts,
            &mut t.tables.sre,
        ] {
            table.name = p(&table.name);
        }
        t.alerts.topic = p(&t.alerts.topic);
        // Bucket names: lowercase, at most 63 characters.
        t.lake.bucket = p(&t.lake.bucket).to_ascii_lowercase();
        t.lake.bucket.truncate(63);
        t.lake.firehose = p(&t.lake.firehose);
        t
    }

    pub fn with_overrides(&self, o: &LocalOverrides) -> Topology {
        let mut t = self.clone();
        for c in t.consumers.values_mut() {
            if c.tumbling_window_s.is_some() {
                c.tumbling_window_s = o.tumbling_window_s.or(c.tumbling_window_s);
            }
            c.batching_window_s = o.batching_window_s.unwrap_or(c.batching_window_s);
            c.max_retry_attempts = o.max_retry_attempts.unwrap_or(c.max_retry_attempts);
        }
        let q = &mut t.sre_buffer;
        q.visibility_timeout_s = o.visibility_timeout_s.unwrap_or(q.visibility_timeout_s);
        q.max_receive_count = o.max_receive_count.unwrap_or(q.max_receive_count);
        q.batching_window_s = o.batching_window_s.unwrap_or(q.batching_window_s);
        t.lake.buffer_s = o.firehose_buffer_s.unwrap_or(t.lake.buffer_s);
        t
    }
}

/// infra/pipeline.json of this repository: found from CARGO_MANIFEST_DIR (tests,
/// `cargo run`) or by walking up from the current directory (installed binary).
pub fn default_path() -> Result<PathBuf, Error> {
    let rel = Path::new("infra").join("pipeline.json");
    let mut starts = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join(&rel);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(Error::Config(
        "infra/pipeline.json not found above the crate or the current directory".into(),
    ))
}

/// A short unique prefix (lowercase, DNS-safe) for one test or one run.
pub fn unique_prefix(tag: &str) -> String {
    let n: u32 = rand::random();
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{tag}-{n:08x}-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_prefixes_every_name() {
        let t = Topology::load_default().unwrap();
        assert!(t.consumer(QOE_ALERTS).unwrap().tumbling_window_s.is_some());
        let p = t.prefixed("t1-");
        assert_eq!(p.stream.name, format!("t1-{}", t.stream.name));
        assert!(p.tables.sre.name.starts_with("t1-"));
        assert!(p.lake.bucket.starts_with("t1-"));
        assert!(p.poison_dlq.starts_with("t1-"));
        let q = p.with_overrides(&LocalOverrides::quick());
        assert_eq!(q.consumer(QOE_ALERTS).unwrap().tumbling_window_s, Some(5));
        assert_eq!(
            q.consumer(SESSION_FEATURES).unwrap().tumbling_window_s,
            None
        );
        assert_eq!(q.sre_buffer.visibility_timeout_s, 5);
    }
}
