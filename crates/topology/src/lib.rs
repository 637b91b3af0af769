//! infra/pipeline.json as one typed model: the topology the CDK app deploys
//! and every Rust reader (the local runner, the lake, backfill, the
//! functions' defaults, the bench) uses, so names, sizes and rules cannot
//! drift. Loading denies unknown keys and validates values; an error names
//! the file and the key path (`pipeline.json: lake.bucket: missing field`).

mod local;
mod model;
mod validate;

use std::path::{Path, PathBuf};

pub use local::LocalOverrides;
pub use model::*;

/// infra/pipeline.json as compiled in: what the Lambda functions default to
/// (they run without the repository next to them).
pub const EMBEDDED_JSON: &str = include_str!("../../../infra/pipeline.json");

/// What the embedded copy is called in errors.
pub const EMBEDDED_NAME: &str = "pipeline.json";

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Not pipeline.json's shape: bad JSON, or a key missing, unknown or of the wrong type.
    #[error("{file}: {key}: {message}")]
    Shape {
        file: String,
        key: String,
        message: String,
    },
    /// The right shape, a wrong value (empty name, zero size, unknown consumer).
    #[error("{file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
    #[error("infra/pipeline.json not found above {searched}")]
    NotFound { searched: String },
    #[error("pipeline.json has no consumer {0:?}")]
    NoConsumer(String),
}

impl TopologyError {
    /// The key path the error is about, when it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            TopologyError::Shape { key, .. } | TopologyError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

impl Topology {
    /// Parses and validates a pipeline.json document; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self, TopologyError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let t: Topology = serde_path_to_error::deserialize(de).map_err(|e| {
            let (key, message) = describe(e.path().to_string(), e.inner());
            TopologyError::Shape {
                file: file.to_string(),
                key,
                message,
            }
        })?;
        validate::check(&t).map_err(|(key, message)| TopologyError::Invalid {
            file: file.to_string(),
            key,
            message,
        })?;
        Ok(t)
    }

    pub fn load(path: impl AsRef<Path>) -> Result<Self, TopologyError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_json(&text, &file)
    }

    /// Loads the repository's infra/pipeline.json (see [`default_path`]).
    pub fn load_default() -> Result<Self, TopologyError> {
        Self::load(default_path()?)
    }

    /// The compiled-in infra/pipeline.json.
    pub fn embedded() -> Result<Self, TopologyError> {
        Self::from_json(EMBEDDED_JSON, EMBEDDED_NAME)
    }

    /// The compiled-in infra/pipeline.json, for defaults that cannot fail
    /// (libraries, tools, tests). It is valid: this crate's tests load it, so
    /// a bad edit fails them before any binary built with it runs.
    pub fn deployed() -> &'static Topology {
        static DEPLOYED: std::sync::OnceLock<Topology> = std::sync::OnceLock::new();
        DEPLOYED.get_or_init(|| Self::embedded().unwrap_or_else(|e| panic!("compiled-in {e}")))
    }

    pub fn consumer(&self, name: &str) -> Result<&ConsumerSpec, TopologyError> {
        self.consumers
            .get(name)
            .ok_or_else(|| TopologyError::NoConsumer(name.to_string()))
    }
}

/// serde names a missing or unknown field in its message, at the path of the
/// object holding it; the key path should end with the field itself.
fn describe(path: String, e: &serde_json::Error) -> (String, String) {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; keep it for syntax errors only.
    let bare = match msg.rfind(" at line ") {
        Some(i) if e.is_data() => msg[..i].to_string(),
        _ => msg.clone(),
    };
    let join = |field: &str| {
        if path == "." || path.is_empty() {
            field.to_string()
        } else if path.ends_with(&format!(".{field}")) || path == field {
            path.clone()
        } else {
            format!("{path}.{field}")
        }
    };
    let field_of = |rest: &str| {
        rest.strip_prefix('`')?
            .split('`')
            .next()
            .map(str::to_string)
    };
    if let Some(f) = bare.strip_prefix("missing field ").and_then(field_of) {
        return (join(&f), "missing field".into());
    }
    if let Some(rest) = bare.strip_prefix("unknown field ") {
        if let Some(f) = field_of(rest) {
            let expected = rest
                .split_once(", ")
                .map_or(String::new(), |(_, e)| format!(" ({e})"));
            return (join(&f), format!("unknown field {f:?}{expected}"));
        }
    }
    let key = if path.is_empty() || path == "." {
        "(top level)".to_string()
    } else {
        path
    };
    (key, bare)
}

/// infra/pipeline.json of this repository: found from CARGO_MANIFEST_DIR (tests,
/// `cargo run`) or by walking up from the current directory (installed binary).
pub fn default_path() -> Result<PathBuf, TopologyError> {
    let rel = Path::new("infra").join("pipeline.json");
    let mut starts = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    for start in &starts {
        for dir in start.ancestors() {
            let candidate = dir.join(&rel);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(TopologyError::NotFound {
        searched: starts
            .iter()
            .map(|s| s.display().to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    })
}

#[cfg(test)]
mod tests;
