// Deploy-time parameters (CDK context, `-c key=value`) and the few infra-only
// settings that pipeline.json does not describe (it describes the data path).
import { RemovalPolicy } from 'aws-cdk-lib';
import { Node } from 'constructs';
import { Topology } from './topology';

export type StartingPosition = 'LATEST' | 'TRIM_HORIZON';
/** Where the collector runs (lib/collector.ts). */
export const COLLECTOR_HOSTS = ['lambda', 'fargate'] as const;
export type CollectorHost = (typeof COLLECTOR_HOSTS)[number];
/** The Lambda host's front door: a function URL, or an API Gateway HTTP API. */
export const COLLECTOR_APIS = ['url', 'httpapi'] as const;
export type CollectorApi = (typeof COLLECTOR_APIS)[number];

export interface DeployParams {
  /** Provisioned shard count; when set the stream is PROVISIONED, otherwise the topology's mode. */
  readonly shardCount?: number;
  /** Stream retention in hours (24..8760); topology stream.retention_hours by default. */
  readonly retentionHours: number;
  /** Where the stream consumers start on first deploy. */
  readonly startingPosition: StartingPosition;
  /** Use the committed placeholder bootstrap when a built zip is missing (tests, `make synth`). */
  readonly placeholderCode: boolean;
  /** Keep data stores (stream, tables, buckets, key) when the stack is deleted. */
  readonly retainData: boolean;
  /** Reserve concurrency for royalty-close (accounts at the default 10-concurrency quota cannot). */
  readonly reserveConcurrency: boolean;
  /** Optional e-mail subscribed to the ops alarm topic. */
  readonly opsEmail?: string;
  /** Lambda IteratorAge alarm threshold for the stream consumers. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Retention of the functions' and Firehose's log groups. */
  readonly logRetentionDays: number;
  /** -c collectorHost=lambda|fargate (default lambda). */
  readonly collectorHost: CollectorHost;
  /** -c collectorApi=url|httpapi (lambda host only; default url). */
  readonly collectorApi: CollectorApi;
  /** -c collectorConcurrency=N: the collector Lambda's reserved concurrency. */
  readonly collectorConcurrency: number;
  /** -c collectorCertArn=...: ACM certificate of the Fargate host's HTTPS listener. */
  readonly collectorCertArn?: string;
  /** -c collectorImage=<ecr repo>[:tag]: the Fargate host's image, already pushed. */
  readonly collectorImage?: string;
}

/**
 * What deleting the stack does to every data store (key, stream, tables, queues, buckets,
 * log groups and streams): retainData keeps them all; otherwise all go, buckets emptied first.
 */
export function storeRemovalPolicy(p: DeployParams): RemovalPolicy {
  return p.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** Settings of the two functions that pipeline.json gives no memory/timeout for. */
export const EXTRA_FUNCTIONS = {
  // Firehose invokes the transform synchronously with up to `bufferMb` of records;
  // AWS recommends a timeout of at least one minute.
  'firehose-transform': { memoryMb: 256, timeoutS: 120, bufferMb: 1, bufferIntervalS: 60, retries: 3 },
  // Daily batch job waiting on Athena queries: the full 15 minutes, one instance at a time.
  'royalty-close': { memoryMb: 512, timeoutS: 900, reservedConcurrency: 1, scheduleHourUtc: 2, scheduleMinute: 0 },
  // The canonical Iceberg table's job (functions/canonical-merge; schedules and
  // retention: the topology's `canonical`): one instance at a time (one Iceberg
  // writer, no commit conflicts between runs).
  'canonical-merge': { memoryMb: 256, timeoutS: 900, reservedConcurrency: 1 },
  // The ingest edge (functions/collector). 128 MB, the minimum, by measurement
  // (2026-12-04): the same core as collector-server, which holds 9 MB idle and 67 MB
  // at peak with 1 024 requests in flight; an instance here holds one request (at most
  // 1 MiB decoded). A request waits on PutRecords, not CPU (~90 us at a full core), so
  // more memory would only buy idle vCPU. The timeout covers the ~3 s PutRecords retry
  // budget plus the calls. Reserved concurrency caps an ingest spike (and its bill) so
  // it cannot starve the consumers of the account's concurrency.
  collector: { memoryMb: 128, timeoutS: 10, reservedConcurrency: 100 },
} as const;

/** Every function the stack deploys; each is built to target/lambda/<name>/bootstrap.zip. */
export const FUNCTION_NAMES = ['qoe-alerts', 'session-features', 'sre-buffer', 'firehose-transform', 'royalty-close', 'canonical-merge', 'long-horizon-features', 'collector'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The functions deployed as Lambda zips: the collector is one only on the lambda host. */
export function lambdaFunctionNames(p: DeployParams): FunctionName[] {
  return FUNCTION_NAMES.filter((n) => n !== 'collector' || p.collectorHost === 'lambda');
}

/** Firehose requires a 64 MiB buffer minimum once dynamic partitioning is enabled. */
export const DYNAMIC_PARTITIONING_MIN_BUFFER_MB = 64;

const MAX_RETENTION_HOURS = 8760; // 365 days, the Kinesis maximum
const MIN_RETENTION_HOURS = 24;

function ctx(node: Node, key: string): string | undefined {
  const v = node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function bool(node: Node, key: string, dflt: boolean): boolean {
  const v = ctx(node, key);
  if (v === undefined) return dflt;
  if (['true', '1', 'yes'].includes(v.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(v.toLowerCase())) return false;
  throw new Error(`context ${key}=${v}: expected true or false`);
}

function oneOf<T extends string>(node: Node, key: string, allowed: readonly T[]): T {
  const v = (ctx(node, key) ?? allowed[0]).toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`context ${key}=${v}: expected ${allowed.join(' or ')}`);
  return v as T;
}

function int(node: Node, key: string): number | undefined {
  const v = ctx(node, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`context ${key}=${v}: expected an integer`);
  return n;
}

export function readParams(node: Node, topology: Topology): DeployParams {
  const shardCount = int(node, 'shardCount');
  if (shardCount !== undefined && (shardCount < 1 || shardCount > 10000)) {
    throw new Error(`context shardCount=${shardCount}: expected 1..10000`);
  }
  const retentionHours = int(node, 'retentionHours') ?? topology.stream.retention_hours;
  if (retentionHours < MIN_RETENTION_HOURS || retentionHours > MAX_RETENTION_HOURS) {
    throw new Error(`retention ${retentionHours} h: Kinesis allows ${MIN_RETENTION_HOURS}..${MAX_RETENTION_HOURS} hours`);
  }
  const startingPosition = (ctx(node, 'startingPosition') ?? 'LATEST').toUpperCase();
  if (startingPosition !== 'LATEST' && startingPosition !== 'TRIM_HORIZON') {
    throw new Error(`context startingPosition=${startingPosition}: expected LATEST or TRIM_HORIZON`);
  }
  return {
    shardCount,
    retentionHours,
    startingPosition,
    placeholderCode: bool(node, 'placeholderCode', false),
    retainData: bool(node, 'retainData', true),
    reserveConcurrency: bool(node, 'reserveConcurrency', true),
    opsEmail: ctx(node, 'opsEmail'),
    iteratorAgeAlarmSeconds: int(node, 'iteratorAgeAlarmSeconds') ?? 120,
    logRetentionDays: int(node, 'logRetentionDays') ?? 30,
    collectorHost: oneOf(node, 'collectorHost', COLLECTOR_HOSTS),
    collectorApi: oneOf(node, 'collectorApi', COLLECTOR_APIS),
    collectorConcurrency: int(node, 'collectorConcurrency') ?? EXTRA_FUNCTIONS.collector.reservedConcurrency,
    collectorCertArn: ctx(node, 'collectorCertArn'),
    collectorImage: ctx(node, 'collectorImage'),
  };
}
