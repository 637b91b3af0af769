// Reads the shared topology (infra/pipeline.json) and the lake column schema
// (events/lake-columns.json). The CDK app never repeats a value those files hold:
// the local runner reads the same files, so local and AWS cannot drift.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const INFRA_DIR = path.resolve(__dirname, '..');
export const REPO_DIR = path.resolve(INFRA_DIR, '..');
export const DEFAULT_TOPOLOGY_FILE = path.join(INFRA_DIR, 'pipeline.json');
export const DEFAULT_COLUMNS_FILE = path.join(REPO_DIR, 'events', 'lake-columns.json');
export const DEFAULT_ATHENA_DIR = path.join(INFRA_DIR, 'athena');

export interface StreamConsumerTopology {
  readonly efo_consumer: string;
  readonly batch_size: number;
  readonly batching_window_s: number;
  readonly tumbling_window_s?: number;
  readonly parallelization_factor: number;
  readonly max_retry_attempts: number;
  readonly max_record_age_s: number;
  readonly bisect_on_error: boolean;
  readonly memory_mb: number;
  readonly timeout_s: number;
}

export interface TableTopology {
  readonly name: string;
  readonly pk: string;
  readonly pk_type?: 'S' | 'N';
  readonly sk?: string;
  readonly sk_type?: 'S' | 'N';
  readonly ttl?: string;
}

export interface Topology {
  readonly stream: {
    readonly name: string;
    readonly mode: 'ON_DEMAND' | 'PROVISIONED';
    readonly provisioned_shards: number;
    readonly retention_hours: number;
  };
  readonly consumers: Record<'qoe-alerts' | 'session-features', StreamConsumerTopology>;
  readonly sre_buffer: {
    readonly queue: string;
    readonly dlq: string;
    readonly max_receive_count: number;
    readonly visibility_timeout_s: number;
    readonly batch_size: number;
    readonly batching_window_s: number;
    readonly max_concurrency: number;
    readonly memory_mb: number;
    readonly timeout_s: number;
  };
  readonly poison_dlq: string;
  /** The canonical Iceberg table's job (functions/canonical-merge). */
  readonly canonical: {
    readonly merge_every_minutes: number;
    readonly optimize_hour_utc: number;
    readonly vacuum_hour_utc: number;
    readonly retention_days: number;
    readonly lookback_days: number;
    readonly optimize_days: number;
    readonly lag_alarm_minutes: number;
  };
  readonly tables: Record<'features' | 'windows' | 'alerts' | 'sre', TableTopology>;
  readonly alerts: {
    readonly topic: string;
    readonly baseline_ratio: number;
    readonly margin: number;
    readonly min_sessions: number;
    readonly min_sample_ms: number;
  };
  /** The SRE rule (playback_domain::sre::SreRule); sre-buffer gets it whole as SRE_RULE. */
  readonly sre: {
    readonly baseline_minutes: number;
    readonly margin: number;
    readonly failure_rate_floor: number;
    readonly start_failure_rate_floor: number;
    readonly rebuffer_rate_floor: number;
    readonly min_attempts: number;
    readonly min_session_minutes: number;
    readonly quiet_minutes: number;
    readonly confidence_z: number;
  };
  readonly features: { readonly ttl_days: number };
  readonly lake: {
    readonly bucket: string;
    readonly prefix: string;
    readonly error_prefix: string;
    readonly reports_prefix: string;
    readonly catalogue_prefix: string;
    readonly long_horizon_prefix: string;
    readonly training_prefix: string;
    readonly firehose: string;
    readonly buffer_mb: number;
    readonly buffer_s: number;
    readonly glue_database: string;
    readonly glue_table: string;
    readonly athena_workgroup: string;
    readonly athena_bytes_scanned_cutoff: number;
  };
}

export interface LakeColumn {
  readonly name: string;
  readonly type: string;
}

export interface LakeColumns {
  readonly columns: LakeColumn[];
  readonly partition_keys: LakeColumn[];
}

export interface NamedQueryFile {
  /** File name without the .sql suffix: the NamedQuery's name. */
  readonly name: string;
  readonly sql: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The value at a dotted key path, or undefined. */
export function valueAt(obj: unknown, p: string): unknown {
  let cur: unknown = obj;
  for (const part of p.split('.')) {
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  }
  return cur;
}

/** Fails on a missing key instead of synthesizing `undefined` into the template. */
function requirePaths(obj: unknown, file: string, paths: readonly string[]): void {
  for (const p of paths) {
    const v = valueAt(obj, p);
    if (v === undefined || v === null) throw new Error(`${file}: missing "${p}"`);
  }
}

/** Every leaf key path of a JSON object (`a.b.c`). */
export function leafPaths(obj: unknown, prefix = ''): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [prefix];
  return Object.entries(obj as Record<string, unknown>)
    .flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** The keys of SreRule (serde deny_unknown_fields on the Rust side). */
export const SRE_RULE_KEYS = [
  'baseline_minutes', 'margin', 'failure_rate_floor', 'start_failure_rate_floor',
  'rebuffer_rate_floor', 'min_attempts', 'min_session_minutes', 'quiet_minutes', 'confidence_z',
] as const;

const CONSUMER_KEYS = ['efo_consumer', 'batch_size', 'batching_window_s', 'parallelization_factor',
  'max_retry_attempts', 'max_record_age_s', 'bisect_on_error', 'memory_mb', 'timeout_s'];
const TABLES = ['features', 'windows', 'alerts', 'sre'];

/** The keys the CDK app reads and cannot do without. */
export const REQUIRED_KEYS: readonly string[] = [
  'stream.name', 'stream.mode', 'stream.provisioned_shards', 'stream.retention_hours',
  ...CONSUMER_KEYS.map((k) => `consumers.qoe-alerts.${k}`),
  'consumers.qoe-alerts.tumbling_window_s',
  ...CONSUMER_KEYS.map((k) => `consumers.session-features.${k}`),
  'sre_buffer.queue', 'sre_buffer.dlq', 'sre_buffer.max_receive_count', 'sre_buffer.visibility_timeout_s',
  'sre_buffer.batch_size', 'sre_buffer.batching_window_s', 'sre_buffer.max_concurrency',
  'sre_buffer.memory_mb', 'sre_buffer.timeout_s', 'poison_dlq',
  ...TABLES.flatMap((k) => [`tables.${k}.name`, `tables.${k}.pk`]),
  'alerts.topic', 'alerts.baseline_ratio', 'alerts.margin', 'alerts.min_sessions', 'alerts.min_sample_ms',
  ...SRE_RULE_KEYS.map((k) => `sre.${k}`), 'features.ttl_days',
  ...['merge_every_minutes', 'optimize_hour_utc', 'vacuum_hour_utc', 'retention_days', 'lookback_days',
    'optimize_days', 'lag_alarm_minutes'].map((k) => `canonical.${k}`),
  ...['bucket', 'prefix', 'error_prefix', 'reports_prefix', 'catalogue_prefix', 'long_horizon_prefix', 'training_prefix', 'firehose', 'buffer_mb',
    'buffer_s', 'glue_database', 'glue_table', 'athena_workgroup', 'athena_bytes_scanned_cutoff'].map((k) => `lake.${k}`),
];

/** The keys the CDK app reads when present. */
export const OPTIONAL_KEYS: readonly string[] = [
  'consumers.session-features.tumbling_window_s',
  ...TABLES.flatMap((k) => ['pk_type', 'sk', 'sk_type', 'ttl'].map((f) => `tables.${k}.${f}`)),
];

/** Keys only the local runner reads (crates/topology knows them too). */
export const LOCAL_ONLY_KEYS: readonly string[] = ['$comment', 'stream.local_shards'];

export function loadTopology(file: string = DEFAULT_TOPOLOGY_FILE): Topology {
  const t = readJson(file);
  // A renamed key is unknown to both readers: the Rust one denies unknown
  // fields, and so does this one, or it would be silently ignored here.
  const known = new Set([...REQUIRED_KEYS, ...OPTIONAL_KEYS, ...LOCAL_ONLY_KEYS]);
  const unknown = leafPaths(t).filter((p) => !known.has(p));
  if (unknown.length > 0) {
    const missing = REQUIRED_KEYS.filter((p) => valueAt(t, p) === undefined);
    const also = missing.length > 0 ? `; missing ${missing.map((p) => `"${p}"`).join(', ')}` : '';
    throw new Error(`${file}: unknown key ${unknown.map((p) => `"${p}"`).join(', ')}${also}`);
  }
  requirePaths(t, file, REQUIRED_KEYS);
  return t as Topology;
}

export function loadLakeColumns(file: string = DEFAULT_COLUMNS_FILE): LakeColumns {
  const c = readJson(file) as LakeColumns;
  requirePaths(c, file, ['columns', 'partition_keys']);
  if (!Array.isArray(c.columns) || c.columns.length === 0) throw new Error(`${file}: "columns" is empty`);
  return c;
}

/** One entry per `*.sql` file directly in `dir`, sorted by name; none when the folder is absent. */
export function loadNamedQueries(dir: string = DEFAULT_ATHENA_DIR): NamedQueryFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => ({ name: f.slice(0, -'.sql'.length), sql: fs.readFileSync(path.join(dir, f), 'utf8') }));
}
