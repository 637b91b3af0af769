// The daily long-horizon feature run (issue 13): functions/long-horizon-features
// driven by a Step Functions state machine, compute (Athena UNLOAD of
// infra/athena/features/long_horizon.sql) -> poll -> list -> Distributed Map of
// throttled publishes into the features table -> finish (the run's manifest).
// Also the Glue tables of its outputs: long_horizon_features (one partition
// per run) and training_examples (columns from events/training-columns.json);
// the titles catalogue the query joins is lib/lake.ts's.
// functions/long-horizon-features/README.md: why Step Functions, the budget.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CodeSource, functionCode } from './code';
import { DeployParams, storeRemovalPolicy } from './config';
import { CANONICAL_TABLE } from './functions';
import { Lake, TITLES_TABLE } from './lake';
import { retentionDays, RustFunction } from './rust-function';
import { lambdaStep, pollAthena } from './sfn-steps';
import { State } from './state';
import { REPO_DIR, Topology } from './topology';

export const LONG_HORIZON_FUNCTION = 'long-horizon-features';
/** Run rows `as_of=<ms>/…parquet`, manifests `_runs/<ms>.json` (offline_features::runs). */
export const LONG_HORIZON_TABLE = 'long_horizon_features';
export const TRAINING_TABLE = 'training_examples';
export const TRAINING_COLUMNS_FILE = path.join(REPO_DIR, 'events', 'training-columns.json');

/**
 * The run's settings. The batch's DynamoDB write budget is WRITE_BUDGET_PER_S
 * (on-demand: a table's default throughput quota is 40 000 WRU/s, so the
 * stream's session saves keep half of it at any hour). Each publish
 * invocation paces itself to writesPerS; at most mapConcurrency run at once:
 * mapConcurrency x writesPerS <= WRITE_BUDGET_PER_S. 90 M active viewers at
 * 20 000 writes/s ~ 75 min: longer than a Lambda's 15 min, hence the Map.
 */
export const LONG_HORIZON = {
  scheduleHourUtc: 2,
  scheduleMinute: 0,
  writeBudgetPerS: 20_000,
  writesPerS: 500,
  mapConcurrency: 40,
  /** Writes in flight per invocation (DynamoDB ~10 ms per call: 32 in flight carry ~3 000/s, above the pace). */
  inFlight: 32,
  /** Parquet files per Map item. */
  sliceFiles: 1,
  memoryMb: 1024,
  timeoutS: 900,
  /** Athena poll interval and the whole run's limit (the alarm's threshold is the same). */
  pollS: 30,
  maxRunMinutes: 180,
} as const;

export interface TrainingColumns {
  readonly partition: { name: string; type: string }[];
  readonly columns: { name: string; type: string }[];
}

export function loadTrainingColumns(file: string = TRAINING_COLUMNS_FILE): TrainingColumns {
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainingColumns;
  if (!Array.isArray(c.columns) || c.columns.length === 0) throw new Error(`${file}: "columns" is empty`);
  if (!Array.isArray(c.partition) || c.partition.map((p) => p.name).join() !== 'dt') throw new Error(`${file}: "partition" must be [dt]`);
  return c;
}

/** The run file's columns (RUN_COLUMNS in functions/long-horizon-features/src/lib.rs; UNLOAD's types). */
export const RUN_COLUMNS: { name: string; type: string }[] = [
  ['viewer_id', 'string'], ['genre_1', 'string'], ['genre_1_bp', 'bigint'], ['genre_2', 'string'], ['genre_2_bp', 'bigint'],
  ['genre_3', 'string'], ['genre_3_bp', 'bigint'], ['plays', 'bigint'], ['completion_bp', 'bigint'],
  ['preferred_device', 'string'], ['preferred_daypart', 'string'], ['active_days', 'bigint'], ['watched_ms', 'bigint'],
].map(([name, type]) => ({ name, type }));

const PARQUET = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
};

export interface LongHorizonProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly code: CodeSource;
  readonly key: kms.IKey;
  readonly state: State;
  readonly lake: Lake;
  readonly trainingColumns?: TrainingColumns;
}

export class LongHorizon extends Construct {
  readonly fn: RustFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
  readonly publishMap: sfn.DistributedMap;
  readonly tables: Record<string, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: LongHorizonProps) {
    super(scope, id);
    const { topology: t, params, lake, state } = props;
    const l = t.lake;
    const c = LONG_HORIZON;
    const stack = Stack.of(this);
    const features = state.tables.features;

    this.fn = new RustFunction(this, LONG_HORIZON_FUNCTION, {
      functionName: LONG_HORIZON_FUNCTION,
      description: 'Long-horizon features: Athena UNLOAD, throttled publish into the features table, run manifest (Step Functions)',
      code: functionCode(LONG_HORIZON_FUNCTION, props.code),
      memoryMb: c.memoryMb, timeoutS: c.timeoutS, key: props.key,
      logRetentionDays: params.logRetentionDays, logRemovalPolicy: storeRemovalPolicy(params),
      environment: {
        LAKE_BUCKET: lake.bucket.bucketName,
        GLUE_DATABASE: l.glue_database,
        ATHENA_WORKGROUP: l.athena_workgroup,
        FEATURES_TABLE: features.tableName,
        FEATURES_TTL_DAYS: String(t.features.ttl_days),
        WRITES_PER_S: String(c.writesPerS),
        CONCURRENCY: String(c.inFlight),
        SLICE_FILES: String(c.sliceFiles),
      },
      skips: [
        { id: 'CKV_AWS_116', comment: 'Invoked synchronously by its state machine, which retries and alarms on a failed execution; an async DLQ would never receive anything.' },
        { id: 'CKV_AWS_115', comment: 'Concurrency is bounded by the Distributed Map\'s MaxConcurrency (the DynamoDB write budget); reserving it would only add throttles.' },
      ],
    });
    const role = this.fn.role;
    const glueTable = (name: string) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${l.glue_database}/${name}` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaWorkgroup',
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetWorkGroup'],
      resources: [lake.workgroupArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'GlueRead',
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [lake.catalogArn, lake.databaseArn, glueTable(CANONICAL_TABLE), glueTable(TITLES_TABLE)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'LakeList',
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resources: [lake.bucket.bucketArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'SourcesRead',
      actions: ['s3:GetObject'],
      resources: [lake.bucket.arnForObjects('canonical/*'), lake.bucket.arnForObjects(`${l.catalogue_prefix}*`)],
    }));
    // UNLOAD writes the run (with the caller's credentials); compute empties a
    // failed run's prefix first; publish reads it; finish writes the manifest.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RunsWrite',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [lake.bucket.arnForObjects(`${l.long_horizon_prefix}*`)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaResults',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetObject', 's3:PutObject',
        's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [lake.resultsBucket.bucketArn, lake.resultsBucket.arnForObjects('*')],
    }));
    // The batch's one write: a conditional UpdateItem of its lh_* attributes.
    features.grant(role, 'dynamodb:UpdateItem');
    props.key.grantEncryptDecrypt(role);

    // The state machine.
    const invoke = (sid: string, payload: Record<string, unknown>, resultPath: string | undefined) =>
      lambdaStep(this, sid, this.fn.fn, payload, resultPath);
    const compute = invoke('Compute', { action: 'compute' }, '$.run');
    const list = invoke('List', { action: 'list', 'as_of_ms.$': '$.run.as_of_ms' }, '$.list');
    this.publishMap = new sfn.DistributedMap(this, 'Publish', {
      itemsPath: '$.list.slices',
      itemSelector: {
        action: 'publish',
        'as_of_ms.$': '$.list.as_of_ms',
        'published_ms.$': '$.list.published_ms',
        'keys.$': '$$.Map.Item.Value',
      },
      maxConcurrency: c.mapConcurrency,
      // A slice re-run is idempotent (the condition makes it stale), so a
      // throttled or timed-out item is retried whole; none may stay failed.
      toleratedFailurePercentage: 0,
      resultPath: '$.reports',
      mapExecutionType: sfn.StateMachineType.STANDARD,
    });
    const publishOne = invoke('PublishSlice', { 'action.$': '$.action', 'as_of_ms.$': '$.as_of_ms', 'published_ms.$': '$.published_ms', 'keys.$': '$.keys' }, undefined);
    publishOne.addRetry({ errors: ['States.Timeout', 'States.TaskFailed'], interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 });
    this.publishMap.itemProcessor(publishOne);
    const finish = invoke('Finish', {
      action: 'finish', 'as_of_ms.$': '$.list.as_of_ms', 'published_ms.$': '$.list.published_ms', 'reports.$': '$.reports',
    }, '$.manifest');
    const definition = compute.next(pollAthena(this, {
      queryIdPath: '$.run.query_id', workgroupArn: lake.workgroupArn, pollS: c.pollS,
      failCause: 'The long-horizon UNLOAD failed or was cancelled (see the query in Athena).',
      next: list.next(this.publishMap).next(finish),
    }));

    const smLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${LONG_HORIZON_FUNCTION}`,
      retention: retentionDays(params.logRetentionDays),
      encryptionKey: props.key,
      removalPolicy: storeRemovalPolicy(params),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: LONG_HORIZON_FUNCTION,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(c.maxRunMinutes),
      tracingEnabled: true,
      logs: { destination: smLogs, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    // CDK makes the state machine depend on its role and the role's policy;
    // RoleArn's GetAtt already orders the role first (cfn-lint W3005).
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Daily long-horizon feature run at ${String(c.scheduleHourUtc).padStart(2, '0')}:${String(c.scheduleMinute).padStart(2, '0')} UTC`,
      schedule: events.Schedule.cron({ minute: String(c.scheduleMinute), hour: String(c.scheduleHourUtc) }),
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });

    // Glue tables of the outputs (Athena reads; the run and training writers own the files).
    const table = (cid: string, name: string, description: string, prefix: string,
      columns: { name: string; type: string }[], partitionKeys: { name: string; type: string }[], projection: Record<string, string>) => {
      const location = `s3://${lake.bucket.bucketName}/${prefix}`;
      return new glue.CfnTable(this, cid, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: l.glue_database,
        tableInput: {
          name, description, tableType: 'EXTERNAL_TABLE', partitionKeys,
          parameters: { EXTERNAL: 'TRUE', classification: 'parquet', ...projection },
          storageDescriptor: {
            location, columns, inputFormat: PARQUET.input, outputFormat: PARQUET.output, compressed: true,
            serdeInfo: { serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
          },
        },
      });
    };
    const training = props.trainingColumns ?? loadTrainingColumns();
    const lakeUrl = `s3://${lake.bucket.bucketName}/`;
    this.tables = {
      [LONG_HORIZON_TABLE]: table('LongHorizonTable', LONG_HORIZON_TABLE,
        'Long-horizon viewer features, one partition per batch run (as_of = the cutoff, epoch ms); only runs with a manifest under _runs/ were served',
        l.long_horizon_prefix, RUN_COLUMNS, [{ name: 'as_of', type: 'bigint' }], {
          // A run is read by its cutoff (WHERE as_of = <ms>): injected projection, no crawler, no partition writes.
          'projection.enabled': 'true', 'projection.as_of.type': 'injected',
          'storage.location.template': `${lakeUrl}${l.long_horizon_prefix}as_of=\${as_of}/`,
        }),
      [TRAINING_TABLE]: table('TrainingTable', TRAINING_TABLE,
        'Point-in-time training examples (events/training-columns.json), one partition per UTC day',
        l.training_prefix, training.columns, training.partition, {
          'projection.enabled': 'true', 'projection.dt.type': 'date', 'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2024-01-01,NOW', 'projection.dt.interval': '1', 'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${lakeUrl}${l.training_prefix}dt=\${dt}/`,
        }),
    };
  }

  /** The run's alarms, on the ops topic (Monitoring's alarm helper). */
  addAlarms(alarm: (id: string, p: cw.AlarmProps) => cw.Alarm, featuresTable: { metricThrottledRequestsForOperation(op: string, p?: cw.MetricOptions): cw.IMetric }): void {
    const sm = this.stateMachine;
    const fiveMin = { period: Duration.minutes(5), statistic: cw.Stats.SUM };
    alarm('long-horizon-ExecutionsFailed', {
      alarmName: 'playback-long-horizon-failed',
      alarmDescription: 'The daily long-horizon run failed, timed out or was aborted: no manifest, the online store keeps the previous run (functions/long-horizon-features).',
      metric: new cw.MathExpression({
        expression: 'f + t + a',
        usingMetrics: { f: sm.metricFailed(fiveMin), t: sm.metricTimedOut(fiveMin), a: sm.metricAborted(fiveMin) },
        period: Duration.minutes(5),
      }),
      threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
    });
    alarm('long-horizon-Duration', {
      alarmName: 'playback-long-horizon-duration',
      alarmDescription: `A long-horizon run took more than ${LONG_HORIZON.maxRunMinutes * 2 / 3} minutes (the state machine stops at ${LONG_HORIZON.maxRunMinutes}).`,
      metric: sm.metricTime({ period: Duration.hours(1), statistic: cw.Stats.MAXIMUM }),
      threshold: LONG_HORIZON.maxRunMinutes * 2 / 3 * 60_000, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
    });
    alarm('long-horizon-WriteThrottles', {
      alarmName: 'playback-long-horizon-write-throttles',
      alarmDescription: 'UpdateItem on the features table is throttled: the batch and the stream exceed the table\'s throughput (lower WRITES_PER_S or the Map concurrency).',
      metric: featuresTable.metricThrottledRequestsForOperation('UpdateItem', { period: Duration.minutes(5), statistic: cw.Stats.SUM }),
      threshold: 100, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 2,
    });
  }
}
