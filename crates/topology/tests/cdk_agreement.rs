//! The values the Rust model reads from pipeline.json, flattened to
//! `key.path -> value`, are committed as infra/test/fixtures/topology.rust.json;
//! infra/test/topology.test.ts reads pipeline.json through the CDK app's
//! reader and compares every value it uses with this file. So both readers
//! agree on every key and value, or one of the two tests fails.
//!
//! After a change to pipeline.json or the model:
//! `UPDATE_TOPOLOGY_FIXTURE=1 cargo test -p playback-topology --test cdk_agreement`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use playback_topology::Topology;
use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/test/fixtures/topology.rust.json")
}

/// Leaves of the typed model (absent options are absent, as in the file).
fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(child, &p, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

#[test]
fn the_rust_model_matches_the_committed_dump() -> anyhow::Result<()> {
    let t = Topology::load_default()?;
    let mut flat = BTreeMap::new();
    flatten(&serde_json::to_value(&t)?, "", &mut flat);
    flat.remove("$comment");
    let dump = serde_json::to_string_pretty(&flat)? + "\n";
    let path = fixture();
    if std::env::var_os("UPDATE_TOPOLOGY_FIXTURE").is_some() {
        std::fs::write(&path, &dump)?;
        return Ok(());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == dump,
        "{} is stale: run UPDATE_TOPOLOGY_FIXTURE=1 cargo test -p playback-topology --test cdk_agreement, \
         then make infra-test",
        path.display()
    );
    Ok(())
}
