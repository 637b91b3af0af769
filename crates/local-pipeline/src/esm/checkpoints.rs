//! Per (consumer, shard): the last processed sequence number and, for a
//! tumbling-window mapping, the open window's state. Lambda keeps both in the
//! service, so a crashed poller resumes exactly there; `durable` keeps them in
//! a directory (one file per shard, replaced atomically by rename) so the local
//! runner survives SIGKILL the same way. Without a directory: memory only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::cmp_seq;
use super::windows::OpenWindow;
use crate::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Entry {
    consumer: String,
    shard: String,
    seq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<OpenWindow>,
}

type Key = (String, String);

#[derive(Debug, Clone, Default)]
pub struct Checkpoints {
    map: Arc<Mutex<BTreeMap<Key, Entry>>>,
    dir: Option<Arc<PathBuf>>,
}

impl Checkpoints {
    /// Checkpoints kept in `dir` (created if missing), loaded from it first.
    pub fn durable(dir: &Path) -> Result<Self> {
        let io = |e: std::io::Error| Error::Config(format!("state dir {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut map = BTreeMap::new();
        for f in std::fs::read_dir(dir).map_err(io)? {
            let path = f.map_err(io)?.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(io)?;
            let e: Entry = serde_json::from_str(&text)
                .map_err(|e| Error::Config(format!("checkpoint {}: {e}", path.display())))?;
            map.insert((e.consumer.clone(), e.shard.clone()), e);
        }
        Ok(Checkpoints {
            map: Arc::new(Mutex::new(map)),
            dir: Some(Arc::new(dir.to_path_buf())),
        })
    }

    pub fn get(&self, consumer: &str, shard: &str) -> Option<String> {
        self.lock()
            .get(&key(consumer, shard))
            .and_then(|e| e.seq.clone())
    }

    /// The open window saved with the checkpoint (tumbling-window mappings).
    pub fn window(&self, consumer: &str, shard: &str) -> Option<OpenWindow> {
        self.lock()
            .get(&key(consumer, shard))
            .and_then(|e| e.window.clone())
    }

    /// Moves the checkpoint forward only (a lower sequence number is ignored).
    pub fn advance(&self, consumer: &str, shard: &str, sequence_number: &str) {
        let mut map = self.lock();
        let e = entry(&mut map, consumer, shard);
        if e.seq
            .as_deref()
            .is_none_or(|old| cmp_seq(old, sequence_number).is_lt())
        {
            e.seq = Some(sequence_number.to_string());
            self.persist(e);
        }
    }

    /// Checkpoint and open window in one write: a crash keeps both or neither.
    pub fn save(
        &self,
        consumer: &str,
        shard: &str,
        sequence_number: Option<&str>,
        window: Option<&OpenWindow>,
    ) {
        let mut map = self.lock();
        let e = entry(&mut map, consumer, shard);
        if let Some(seq) = sequence_number {
            if e.seq.as_deref().is_none_or(|old| cmp_seq(old, seq).is_lt()) {
                e.seq = Some(seq.to_string());
            }
        }
        e.window = window.cloned();
        self.persist(e);
    }

    /// Every checkpoint of one consumer, by shard.
    pub fn of(&self, consumer: &str) -> BTreeMap<String, String> {
        self.lock()
            .iter()
            .filter(|((c, _), _)| c == consumer)
            .filter_map(|((_, s), e)| Some((s.clone(), e.seq.clone()?)))
            .collect()
    }

    fn persist(&self, e: &Entry) {
        let Some(dir) = &self.dir else { return };
        let name = format!("{}__{}.json", e.consumer, e.shard).replace(['/', '\\'], "_");
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let text = serde_json::to_vec(e).expect("a checkpoint serialises");
        // A crash before the rename leaves the previous file: never half of one.
        if let Err(err) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path)) {
            tracing::error!(path = %path.display(), error = %err, "checkpoint not saved");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(consumer: &str, shard: &str) -> Key {
    (consumer.to_string(), shard.to_string())
}

fn entry<'m>(map: &'m mut BTreeMap<Key, Entry>, consumer: &str, shard: &str) -> &'m mut Entry {
    map.entry(key(consumer, shard)).or_insert_with(|| Entry {
        consumer: consumer.to_string(),
        shard: shard.to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_durable_checkpoint_and_window_survive_a_new_process() {
        let dir = std::env::temp_dir().join(format!("cp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let big = "49590338271490256608559692538361571095921575989136588898";
        let window = OpenWindow {
            start_ms: 10_000,
            end_ms: 20_000,
            state: serde_json::from_str(r#"{"n":"3"}"#).unwrap(),
        };
        {
            let c = Checkpoints::durable(&dir).unwrap();
            c.advance("lake", "shardId-0", "7");
            c.save("qoe", "shardId-0", Some(big), Some(&window));
        }
        let c = Checkpoints::durable(&dir).unwrap();
        assert_eq!(c.get("lake", "shardId-0").as_deref(), Some("7"));
        assert_eq!(c.get("qoe", "shardId-0").as_deref(), Some(big));
        assert_eq!(c.window("qoe", "shardId-0"), Some(window));
        c.save("qoe", "shardId-0", None, None);
        let c = Checkpoints::durable(&dir).unwrap();
        assert_eq!(
            c.window("qoe", "shardId-0"),
            None,
            "a closed window is forgotten"
        );
        assert_eq!(c.get("qoe", "shardId-0").as_deref(), Some(big));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
