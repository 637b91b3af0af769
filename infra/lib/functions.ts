// The five Rust functions, their environment (names the Rust code reads), their
// least-privilege grants and their event sources.
import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { CodeSource, functionCode } from './code';
import { DeployParams, EXTRA_FUNCTIONS, FunctionName, storeRemovalPolicy } from './config';
import { ConsumerName, Ingest } from './ingest';
import { Lake } from './lake';
import { RustFunction } from './rust-function';
import { State } from './state';
import { Skip } from './suppress';
import { Topology } from './topology';

export interface FunctionsProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly code: CodeSource;
  readonly key: kms.IKey;
  readonly ingest: Ingest;
  readonly state: State;
  readonly lake: Lake;
}

/** The table royalty-close creates with Athena DDL (infra/athena/royalty_ledger_table.sql). */
export const LEDGER_TABLE = 'royalty_ledger';
/** The canonical Iceberg table (one row per event_id) and its S3 prefix: scripts/canonical_catalog.py, infra/athena/canonical_merge.sql. */
export const CANONICAL_TABLE = 'events_canonical';
export const CANONICAL_PREFIX = 'canonical/';
/** The hot tier's rollup tables (infra/athena/hot/tables.sql) and their S3 prefix. */
export const HOT_TABLES = ['hot_title_region_hour', 'hot_viewer_sessions_hour', 'hot_errors_hour'];
export const HOT_PREFIX = 'hot/';

const STREAM_DLQ_SKIP: Skip = { id: 'CKV_AWS_116', comment: 'Invoked synchronously by an event-source mapping; failed batches go to the mapping\'s on-failure destination (poison-pill SQS DLQ), an async DLQ would never receive anything.' };
const STREAM_CONCURRENCY_SKIP: Skip = { id: 'CKV_AWS_115', comment: 'Concurrency is bounded by shards x ParallelizationFactor of its EFO mapping; reserving it would only add throttles and iterator age.' };

/** Grants exactly `actions` on one table, plus use of the table's CMK. */
function grantTable(table: dynamodb.Table, role: iam.IGrantable, ...actions: string[]): void {
  table.grant(role, ...actions.map((a) => `dynamodb:${a}`));
  table.encryptionKey?.grantEncryptDecrypt(role);
}

export class Functions extends Construct {
  /** Every function but long-horizon-features (lib/long-horizon.ts builds it with its state machine) and collector (lib/collector.ts). */
  readonly all: Record<Exclude<FunctionName, 'long-horizon-features' | 'collector'>, RustFunction>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { topology: t, params, state, ingest, lake } = props;
    const make = (name: Exclude<FunctionName, 'long-horizon-features' | 'collector'>, memoryMb: number, timeoutS: number, description: string,
      environment: Record<string, string>, skips: Skip[], reservedConcurrency?: number) =>
      new RustFunction(this, name, {
        functionName: name, description, memoryMb, timeoutS, environment, skips, reservedConcurrency,
        code: functionCode(name, props.code), key: props.key, logRetentionDays: params.logRetentionDays,
        logRemovalPolicy: storeRemovalPolicy(params),
      });
    const poisonUrl = state.poisonDlq.queueUrl;

    // qoe-alerts: tumbling windows of QoE per title/region -> windows table, alerts table, SNS.
    const qoeT = t.consumers['qoe-alerts'];
    const qoe = make('qoe-alerts', qoeT.memory_mb, qoeT.timeout_s, 'QoE rebuffering windows and alerts (Kinesis EFO)', {
      WINDOWS_TABLE: state.tables.windows.tableName,
      ALERTS_TABLE: state.tables.alerts.tableName,
      ALERTS_TOPIC_ARN: state.alertsTopic.topicArn,
      POISON_DLQ_URL: poisonUrl,
      QOE_BASELINE_RATIO: String(t.alerts.baseline_ratio),
      QOE_ALERT_MARGIN: String(t.alerts.margin),
      QOE_MIN_SESSIONS: String(t.alerts.min_sessions),
      QOE_MIN_SAMPLE_MS: String(t.alerts.min_sample_ms),
    }, [STREAM_DLQ_SKIP, STREAM_CONCURRENCY_SKIP]);
    grantTable(state.tables.windows, qoe.role, 'PutItem', 'Query');
    grantTable(state.tables.alerts, qoe.role, 'GetItem', 'PutItem', 'UpdateItem');
    state.alertsTopic.grantPublish(qoe.role);
    state.poisonDlq.grantSendMessages(qoe.role);

    // session-features: per-viewer features in the features table.
    const sfT = t.consumers['session-features'];
    const features = make('session-features', sfT.memory_mb, sfT.timeout_s, 'Per-viewer session features (Kinesis EFO)', {
      FEATURES_TABLE: state.tables.features.tableName,
      POISON_DLQ_URL: poisonUrl,
      FEATURES_TTL_DAYS: String(t.features.ttl_days),
    }, [STREAM_DLQ_SKIP, STREAM_CONCURRENCY_SKIP]);
    // The save is a conditional UpdateItem of the session attributes (the batch's lh_* ones are left alone).
    grantTable(state.tables.features, features.role, 'GetItem', 'BatchGetItem', 'UpdateItem');
    state.poisonDlq.grantSendMessages(features.role);

    for (const [name, fn] of [['qoe-alerts', qoe], ['session-features', features]] as [ConsumerName, RustFunction][]) {
      const c = t.consumers[name];
      fn.fn.addEventSource(new sources.KinesisConsumerEventSource(ingest.consumers[name], {
        startingPosition: lambda.StartingPosition[params.startingPosition],
        batchSize: c.batch_size,
        maxBatchingWindow: Duration.seconds(c.batching_window_s),
        parallelizationFactor: c.parallelization_factor,
        retryAttempts: c.max_retry_attempts,
        maxRecordAge: Duration.seconds(c.max_record_age_s),
        bisectBatchOnError: c.bisect_on_error,
        reportBatchItemFailures: true,
        tumblingWindow: c.tumbling_window_s ? Duration.seconds(c.tumbling_window_s) : undefined,
        onFailure: new sources.SqsDlq(state.poisonDlq),
      }));
    }

    // sre-buffer: playback-quality SQS queue -> SRE signals table.
    const sreT = t.sre_buffer;
    const sre = make('sre-buffer', sreT.memory_mb, sreT.timeout_s, 'SRE outage rates and incidents from the playback-quality queue', {
      SRE_TABLE: state.tables.sre.tableName,
      POISON_DLQ_URL: poisonUrl,
      ALERTS_TOPIC_ARN: state.alertsTopic.topicArn,
      SRE_RULE: JSON.stringify(t.sre),
    }, [
      { id: 'CKV_AWS_116', comment: 'Invoked by an SQS event-source mapping; failed messages go to the queue\'s redrive DLQ (playback-quality-dlq), not an async DLQ.' },
      { id: 'CKV_AWS_115', comment: 'Concurrency is capped by the SQS mapping\'s MaximumConcurrency (topology sre_buffer.max_concurrency), which AWS recommends over reserved concurrency for SQS sources.' },
    ]);
    // Query: the baseline minutes and the slice's incidents.
    grantTable(state.tables.sre, sre.role, 'UpdateItem', 'PutItem', 'Query');
    state.alertsTopic.grantPublish(sre.role);
    state.poisonDlq.grantSendMessages(sre.role);
    sre.fn.addEventSource(new sources.SqsEventSource(state.qualityQueue, {
      batchSize: sreT.batch_size,
      maxBatchingWindow: Duration.seconds(sreT.batching_window_s),
      maxConcurrency: sreT.max_concurrency,
      reportBatchItemFailures: true,
    }));

    // firehose-transform: invoked by Firehose only (the delivery role gets lambda:InvokeFunction).
    const ft = EXTRA_FUNCTIONS['firehose-transform'];
    const transform = make('firehose-transform', ft.memoryMb, ft.timeoutS, 'Firehose record transform: JSON events + dt/hour partition keys', {}, [
      { id: 'CKV_AWS_116', comment: 'Invoked synchronously by Firehose; failed records go to the lake error prefix, an async DLQ would never receive anything.' },
      { id: 'CKV_AWS_115', comment: 'Firehose bounds its own invocations; reserving concurrency would only throttle delivery.' },
    ]);

    // royalty-close: daily Athena queries over the lake, reports under reports_prefix.
    const rc = EXTRA_FUNCTIONS['royalty-close'];
    const l = t.lake;
    const royalty = make('royalty-close', rc.memoryMb, rc.timeoutS, 'Daily royalty close over the lake (Athena)', {
      LAKE_BUCKET: lake.bucket.bucketName,
      LAKE_PREFIX: l.prefix,
      REPORTS_PREFIX: l.reports_prefix,
      GLUE_DATABASE: l.glue_database,
      CANONICAL_TABLE,
      LEDGER_TABLE,
      ATHENA_WORKGROUP: l.athena_workgroup,
      LEDGER_PREFIX: `${l.reports_prefix}ledger/`,
    }, [
      { id: 'CKV_AWS_116', comment: 'Daily scheduled job: a failed run raises the Errors alarm and is rerun; EventBridge retries delivery itself.' },
      ...(params.reserveConcurrency ? [] : [{ id: 'CKV_AWS_115', comment: 'Reserved concurrency disabled with -c reserveConcurrency=false (account quota too small to reserve).' }]),
    ], params.reserveConcurrency ? rc.reservedConcurrency : undefined);
    const role = royalty.role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaWorkgroup',
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resources: [lake.workgroupArn],
    }));
    // Athena checks a Glue action on the table and on each ancestor (database, catalog):
    // "non-delete actions need the action on the resource and all its ancestors" (Athena
    // guide, fine-grained access to the Glue Data Catalog). The statements name only
    // these two tables, so CREATE TABLE works for the ledger and for no other table.
    // The close reads the canonical Iceberg table (never the raw log) and its ledger.
    const ledgerTableArn = Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${l.glue_database}/${LEDGER_TABLE}` });
    const canonicalTableArn = Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${l.glue_database}/${CANONICAL_TABLE}` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'GlueCatalog',
      actions: ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [lake.catalogArn, lake.databaseArn, canonicalTableArn, ledgerTableArn],
    }));
    // The close owns its ledger table: CREATE EXTERNAL TABLE IF NOT EXISTS before each
    // close (a no-op once it exists; it never ALTERs it). It replaces, never appends:
    // it deletes its own ledger partition and report on re-run.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LedgerTable',
      actions: ['glue:CreateTable'],
      resources: [lake.catalogArn, lake.databaseArn, ledgerTableArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LakeList',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [lake.bucket.bucketArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LakeRead',
      actions: ['s3:GetObject'],
      resources: [lake.bucket.arnForObjects(`${CANONICAL_PREFIX}*`), lake.bucket.arnForObjects(`${l.reports_prefix}*`)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReportsWrite',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
      resources: [lake.bucket.arnForObjects(`${l.reports_prefix}*`)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaResults',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetObject', 's3:PutObject',
        's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [lake.resultsBucket.bucketArn, lake.resultsBucket.arnForObjects('*')],
    }));
    props.key.grantEncryptDecrypt(role);
    new events.Rule(this, 'RoyaltyCloseSchedule', {
      description: 'Daily royalty close',
      schedule: events.Schedule.cron({ minute: String(rc.scheduleMinute), hour: String(rc.scheduleHourUtc) }),
      targets: [new targets.LambdaFunction(royalty.fn, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });

    // canonical-merge: feeds the canonical Iceberg table on Athena (MERGE every N
    // minutes; OPTIMIZE and VACUUM daily). functions/canonical-merge/README.md.
    const cm = EXTRA_FUNCTIONS['canonical-merge'];
    const ct = t.canonical;
    const canonical = make('canonical-merge', cm.memoryMb, cm.timeoutS, 'Canonical Iceberg table: MERGE from the raw log, OPTIMIZE, VACUUM (Athena)', {
      LAKE_BUCKET: lake.bucket.bucketName,
      CANONICAL_PREFIX,
      HOT_PREFIX,
      GLUE_DATABASE: l.glue_database,
      ATHENA_WORKGROUP: l.athena_workgroup,
      SETTLE_S: String(2 * l.buffer_s),
      LOOKBACK_DAYS: String(ct.lookback_days),
      OPTIMIZE_DAYS: String(ct.optimize_days),
      RETENTION_DAYS: String(ct.retention_days),
    }, [
      { id: 'CKV_AWS_116', comment: 'Scheduled job: a failed run raises the Errors alarm and the next run resumes from the table\'s watermark; EventBridge retries delivery itself.' },
      ...(params.reserveConcurrency ? [] : [{ id: 'CKV_AWS_115', comment: 'Reserved concurrency disabled with -c reserveConcurrency=false (account quota too small to reserve).' }]),
    ], params.reserveConcurrency ? cm.reservedConcurrency : undefined);
    const cmRole = canonical.role;
    const rawTableArn = Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${l.glue_database}/${l.glue_table}` });
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaWorkgroup',
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resources: [lake.workgroupArn],
    }));
    // Glue: read the raw table; create and update (each commit) the canonical
    // table and the hot tier's rollups only.
    const hotTableArns = HOT_TABLES.map((name) => Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${l.glue_database}/${name}` }));
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'GlueRead',
      // GetDatabases/GetTables: the schema-evolution step reads information_schema.columns.
      actions: ['glue:GetDatabase', 'glue:GetDatabases', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [lake.catalogArn, lake.databaseArn, rawTableArn, canonicalTableArn, ...hotTableArns],
    }));
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'CanonicalTable',
      actions: ['glue:CreateTable', 'glue:UpdateTable'],
      resources: [lake.catalogArn, lake.databaseArn, canonicalTableArn, ...hotTableArns],
    }));
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LakeList',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [lake.bucket.bucketArn],
    }));
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RawRead',
      actions: ['s3:GetObject'],
      resources: [lake.bucket.arnForObjects(`${l.prefix}*`)],
    }));
    // VACUUM deletes expired data and metadata files (without DeleteObject it
    // "succeeds" and deletes nothing: Athena VACUUM docs).
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'CanonicalWrite',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [lake.bucket.arnForObjects(`${CANONICAL_PREFIX}*`), lake.bucket.arnForObjects(`${HOT_PREFIX}*`)],
    }));
    cmRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaResults',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetObject', 's3:PutObject',
        's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [lake.resultsBucket.bucketArn, lake.resultsBucket.arnForObjects('*')],
    }));
    props.key.grantEncryptDecrypt(cmRole);
    const job = (id: string, description: string, schedule: events.Schedule, action: string) => new events.Rule(this, id, {
      description, schedule,
      targets: [new targets.LambdaFunction(canonical.fn, {
        event: events.RuleTargetInput.fromObject({ action }), retryAttempts: 2, maxEventAge: Duration.hours(1),
      })],
    });
    job('CanonicalMergeSchedule', `Canonical table MERGE every ${ct.merge_every_minutes} minutes`, events.Schedule.rate(Duration.minutes(ct.merge_every_minutes)), 'merge');
    job('CanonicalOptimizeSchedule', 'Canonical table OPTIMIZE (bin-pack recent days), daily',
      events.Schedule.cron({ minute: '30', hour: String(ct.optimize_hour_utc) }), 'optimize');
    job('CanonicalVacuumSchedule', `Canonical table VACUUM (snapshots kept ${ct.retention_days} days), daily`,
      events.Schedule.cron({ minute: '30', hour: String(ct.vacuum_hour_utc) }), 'vacuum');

    this.all = { 'qoe-alerts': qoe, 'session-features': features, 'sre-buffer': sre, 'firehose-transform': transform, 'royalty-close': royalty, 'canonical-merge': canonical };
  }
}
