// The daily training build (issue 13): point-in-time training examples for
// one day of arrivals. The long-horizon function's training_* actions, as
// their own Lambda sized for a slice, driven by a state machine:
// training_start (Athena UNLOAD of infra/athena/features/training_inputs.sql,
// partitioned by viewer bucket) -> poll -> training_list -> Distributed Map
// of training_slice (one per bucket, each continuing its bucket's state of
// the day before) -> training_finish. functions/long-horizon-features/README.md.
import { CfnResource, Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CodeSource, functionCode } from './code';
import { DeployParams, storeRemovalPolicy } from './config';
import { CANONICAL_TABLE } from './functions';
import { Lake, TITLES_TABLE } from './lake';
import { LONG_HORIZON_FUNCTION } from './long-horizon';
import { retentionDays, RustFunction } from './rust-function';
import { lambdaStep, pollAthena } from './sfn-steps';
import { Topology } from './topology';

export const TRAINING_FUNCTION = 'training-examples';

/**
 * At 2 B events/day and 150 M viewers, 100 buckets (Athena writes at most 100
 * partitions per query) give a slice ~20 M events and ~1.5 M viewers' state;
 * 8 passes over disjoint viewers keep ~2.5 M decoded rows in memory at once.
 * Measured (examples/slice_speed.rs): 16.6 us/event for a slice of 8 passes and
 * 346 B/viewer of gzip state, so ~330 s of slice plus ~70 s of state per slice:
 * ~7 min of the 15, 100 slices at once.
 */
export const TRAINING_BUILD = {
  /** Yesterday's arrivals: the canonical merge runs every 15 min and alarms past 60. */
  scheduleHourUtc: 1,
  scheduleMinute: 30,
  buckets: 100,
  passes: 8,
  mapConcurrency: 100,
  memoryMb: 10_240,
  timeoutS: 900,
  pollS: 30,
  maxRunMinutes: 120,
  /** A day's UNLOAD output is read once; kept for a re-run of the day. */
  inputsKeptDays: 3,
  /** A re-run of day D needs the state of D-1: days older than this cannot be re-run. */
  stateKeptDays: 14,
} as const;

export interface TrainingBuildProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly code: CodeSource;
  readonly key: kms.IKey;
  readonly lake: Lake;
  /** The features table's name: the shared binary's config requires it (this role may not touch it). */
  readonly featuresTableName: string;
}

export class TrainingBuild extends Construct {
  readonly fn: RustFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
  readonly sliceMap: sfn.DistributedMap;

  constructor(scope: Construct, id: string, props: TrainingBuildProps) {
    super(scope, id);
    const { topology: t, params, lake } = props;
    const l = t.lake;
    const c = TRAINING_BUILD;

    this.fn = new RustFunction(this, TRAINING_FUNCTION, {
      functionName: TRAINING_FUNCTION,
      description: 'Training examples: one day of arrivals, a slice per viewer bucket carrying its state (the long-horizon binary\'s training_* actions)',
      code: functionCode(LONG_HORIZON_FUNCTION, props.code),
      memoryMb: c.memoryMb, timeoutS: c.timeoutS, key: props.key,
      logRetentionDays: params.logRetentionDays, logRemovalPolicy: storeRemovalPolicy(params),
      environment: {
        LAKE_BUCKET: lake.bucket.bucketName,
        GLUE_DATABASE: l.glue_database,
        ATHENA_WORKGROUP: l.athena_workgroup,
        FEATURES_TABLE: props.featuresTableName,
        TRAINING_BUCKETS: String(c.buckets),
        TRAINING_PASSES: String(c.passes),
      },
      skips: [
        { id: 'CKV_AWS_116', comment: 'Invoked synchronously by its state machine, which retries and alarms on a failed execution; an async DLQ would never receive anything.' },
        { id: 'CKV_AWS_115', comment: 'Concurrency is bounded by the Distributed Map\'s MaxConcurrency (one slice per bucket).' },
      ],
    });
    const role = this.fn.role;
    const stack = this.fn.fn.stack;
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
    // The canonical table (UNLOAD runs with the caller's credentials), the
    // catalogue and the published runs with their manifests: read only.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'SourcesRead',
      actions: ['s3:GetObject'],
      resources: [lake.bucket.arnForObjects('canonical/*'), lake.bucket.arnForObjects(`${l.catalogue_prefix}*`),
        lake.bucket.arnForObjects(`${l.long_horizon_prefix}*`)],
    }));
    // Its own prefix: the day's inputs, the examples, the listings, the states.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TrainingWrite',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [lake.bucket.arnForObjects(`${l.training_prefix}*`)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'AthenaResults',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetObject', 's3:PutObject',
        's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [lake.resultsBucket.bucketArn, lake.resultsBucket.arnForObjects('*')],
    }));
    props.key.grantEncryptDecrypt(role);
    // The build's working files are not the table: they expire (~120 GB of inputs and ~45 GB of state a day at 2 B events).
    lake.bucket.addLifecycleRule({ id: 'expire-training-inputs', prefix: `${l.training_prefix}_inputs/`, expiration: Duration.days(c.inputsKeptDays), noncurrentVersionExpiration: Duration.days(1) });
    lake.bucket.addLifecycleRule({ id: 'expire-training-state', prefix: `${l.training_prefix}_state/`, expiration: Duration.days(c.stateKeptDays), noncurrentVersionExpiration: Duration.days(1) });

    const invoke = (sid: string, payload: Record<string, unknown>, resultPath: string | undefined) =>
      lambdaStep(this, sid, this.fn.fn, payload, resultPath);
    const start = invoke('Start', { action: 'training_start' }, '$.run');
    const list = invoke('List', { action: 'training_list', 'day.$': '$.run.day' }, '$.list');
    this.sliceMap = new sfn.DistributedMap(this, 'Slices', {
      itemsPath: '$.list.slices',
      itemSelector: {
        action: 'training_slice',
        'day.$': '$.list.day',
        'bucket.$': '$$.Map.Item.Value.bucket',
        'keys.$': '$$.Map.Item.Value.keys',
      },
      maxConcurrency: c.mapConcurrency,
      // A slice re-run from the same state writes the same bytes: retry whole; none may stay failed
      // (the next day's slice of that bucket would refuse the gap).
      toleratedFailurePercentage: 0,
      resultPath: '$.listings',
      mapExecutionType: sfn.StateMachineType.STANDARD,
    });
    const sliceOne = invoke('Slice', { 'action.$': '$.action', 'day.$': '$.day', 'bucket.$': '$.bucket', 'keys.$': '$.keys' }, undefined);
    sliceOne.addRetry({ errors: ['States.Timeout', 'States.TaskFailed'], interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 });
    this.sliceMap.itemProcessor(sliceOne);
    const finish = invoke('Finish', { action: 'training_finish', 'day.$': '$.list.day', 'listings.$': '$.listings' }, '$.summary');
    const definition = start.next(pollAthena(this, {
      queryIdPath: '$.run.query_id', workgroupArn: lake.workgroupArn, pollS: c.pollS,
      failCause: 'The training inputs UNLOAD failed or was cancelled (see the query in Athena).',
      next: list.next(this.sliceMap).next(finish),
    }));

    const smLogs = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${TRAINING_FUNCTION}`,
      retention: retentionDays(params.logRetentionDays),
      encryptionKey: props.key,
      removalPolicy: storeRemovalPolicy(params),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: TRAINING_FUNCTION,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.minutes(c.maxRunMinutes),
      tracingEnabled: true,
      logs: { destination: smLogs, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Daily training build of yesterday's arrivals at ${String(c.scheduleHourUtc).padStart(2, '0')}:${String(c.scheduleMinute).padStart(2, '0')} UTC`,
      schedule: events.Schedule.cron({ minute: String(c.scheduleMinute), hour: String(c.scheduleHourUtc) }),
      targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
    });
  }

  /** A failed day stops every later day of the failed buckets: page on it. */
  addAlarms(alarm: (id: string, p: cw.AlarmProps) => cw.Alarm): void {
    const sm = this.stateMachine;
    const fiveMin = { period: Duration.minutes(5), statistic: cw.Stats.SUM };
    alarm('training-ExecutionsFailed', {
      alarmName: 'playback-training-build-failed',
      alarmDescription: 'The daily training build failed, timed out or was aborted: re-run that day, then the days after it, in order (functions/long-horizon-features/README.md).',
      metric: new cw.MathExpression({
        expression: 'f + t + a',
        usingMetrics: { f: sm.metricFailed(fiveMin), t: sm.metricTimedOut(fiveMin), a: sm.metricAborted(fiveMin) },
        period: Duration.minutes(5),
      }),
      threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
    });
    alarm('training-Duration', {
      alarmName: 'playback-training-build-duration',
      alarmDescription: `A training build took more than ${TRAINING_BUILD.maxRunMinutes * 2 / 3} minutes (the state machine stops at ${TRAINING_BUILD.maxRunMinutes}).`,
      metric: sm.metricTime({ period: Duration.hours(1), statistic: cw.Stats.MAXIMUM }),
      threshold: TRAINING_BUILD.maxRunMinutes * 2 / 3 * 60_000, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
    });
  }
}
