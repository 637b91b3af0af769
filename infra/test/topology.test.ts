// The CDK app and the Rust readers (crates/topology) read infra/pipeline.json
// alike: the same keys, the same values, the same refusal of a renamed key.
// test/fixtures/topology.rust.json is the Rust model's values (key path -> value),
// checked against the Rust model by `cargo test -p playback-topology`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  DEFAULT_TOPOLOGY_FILE, LOCAL_ONLY_KEYS, OPTIONAL_KEYS, REQUIRED_KEYS, leafPaths, loadTopology, valueAt,
} from '../lib/topology';
import { tempDir, topology } from './helpers';

const RUST_DUMP = path.join(__dirname, 'fixtures', 'topology.rust.json');
const REGENERATE = 'UPDATE_TOPOLOGY_FIXTURE=1 cargo test -p playback-topology --test cdk_agreement';
const rust = JSON.parse(fs.readFileSync(RUST_DUMP, 'utf8')) as Record<string, unknown>;
const text = fs.readFileSync(DEFAULT_TOPOLOGY_FILE, 'utf8');

function loadText(json: string): () => unknown {
  const file = path.join(tempDir('topology-'), 'pipeline.json');
  fs.writeFileSync(file, json);
  return () => loadTopology(file);
}

describe('CDK and Rust readers of pipeline.json', () => {
  test('agree on every value the CDK app reads', () => {
    for (const key of [...REQUIRED_KEYS, ...OPTIONAL_KEYS]) {
      assert.deepEqual(valueAt(topology, key), rust[key], `${key} (stale dump? ${REGENERATE})`);
    }
  });
  test('every key of the Rust model is one the CDK app reads, or local-only', () => {
    const cdk = new Set([...REQUIRED_KEYS, ...OPTIONAL_KEYS, ...LOCAL_ONLY_KEYS]);
    assert.deepEqual(Object.keys(rust).filter((k) => !cdk.has(k)), []);
    assert.deepEqual(leafPaths(JSON.parse(text)).filter((k) => !cdk.has(k)), []);
  });
});

describe('the CDK reader refuses a changed key, naming it', () => {
  test('a renamed key', () => {
    assert.throws(loadText(text.replace('"bucket"', '"bukcet"')),
      /pipeline\.json: unknown key "lake\.bukcet"; missing "lake\.bucket"/);
  });
  test('a removed key', () => {
    const t = JSON.parse(text);
    delete t.alerts.margin;
    assert.throws(loadText(JSON.stringify(t)), /missing "alerts\.margin"/);
  });
  test('any key of the file, renamed', () => {
    const keys = leafPaths(JSON.parse(text));
    assert.ok(keys.length > 70, `${keys.length} keys`);
    for (const key of keys) {
      const t = JSON.parse(text);
      const parts = key.split('.');
      const last = parts.pop() as string;
      const parent = parts.length ? valueAt(t, parts.join('.')) as Record<string, unknown> : t;
      parent[`${last}_renamed`] = parent[last];
      delete parent[last];
      assert.throws(loadText(JSON.stringify(t)), (e: Error) => e.message.includes(`"${key}_renamed"`), key);
    }
  });
});
