// Alarms (to an encrypted SNS ops topic) and the operations dashboard.
//
// Custom metrics come from the functions as CloudWatch Embedded Metric Format log
// lines (namespace "Playback"), so no cloudwatch:PutMetricData permission exists.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeployParams, FUNCTION_NAMES, FunctionName } from './config';
import { RustFunction } from './rust-function';
import { Topology } from './topology';

export const METRICS_NAMESPACE = 'Playback';
/** Every alarm's name starts with it: the ops topic and key let only these alarms publish. */
export const ALARM_NAME_PREFIX = 'playback-';
/** The stream consumers whose Lambda IteratorAge is alarmed. */
export const STREAM_CONSUMERS: FunctionName[] = ['qoe-alerts', 'session-features'];
/** The functions fed by a stream or queue mapping. */
export const EVENT_SOURCE_FUNCTIONS: FunctionName[] = [...STREAM_CONSUMERS, 'sre-buffer'];
/**
 * EMF metric the functions emit when a call fails in a way no retry fixes. The alarm
 * matches exactly namespace Playback, this name and one dimension, Function = the
 * function name (its CONSUMER constant); any other dimension set is another metric.
 */
export const NON_RETRIABLE_METRIC = 'NonRetriableErrors';
/** sre-buffer's playback attempts per batch (dimension Function = sre-buffer): SRE_ATTEMPTS_SEEN in lib.rs. */
export const SRE_ATTEMPTS_METRIC = 'SreAttemptsSeen';
/** Minutes without a playback attempt on the SRE path before it counts as blind. */
export const SRE_BLIND_MINUTES = 15;

export interface MonitoringProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly key: kms.IKey;
  /** Every deployed function: one per code name, and any sharing a code (the training build). */
  readonly functions: Record<Exclude<FunctionName, 'collector'>, RustFunction> & Record<string, RustFunction>;
  readonly stream: kinesis.Stream;
  readonly dlqs: Record<string, sqs.IQueue>;
  readonly deliveryStream: firehose.CfnDeliveryStream;
}

/** All series of an EMF metric, whatever its dimension values (Region, Consumer, ...). */
function emf(metricName: string, stat: string, label: string): cw.MathExpression {
  return new cw.MathExpression({
    expression: `SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metricName}"', '${stat}', 60)`,
    label,
    period: Duration.minutes(1),
    usingMetrics: {},
  });
}

export class Monitoring extends Construct {
  readonly opsTopic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];
  readonly dashboard: cw.Dashboard;
  /** Adds an alarm on the ops topic (name prefixed ALARM_NAME_PREFIX, alarm and OK actions). */
  readonly alarm: (id: string, p: cw.AlarmProps) => cw.Alarm;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { topology: t, params, functions } = props;

    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      topicName: 'playback-ops-alarms',
      displayName: 'Playback pipeline alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (params.opsEmail) this.opsTopic.addSubscription(new subs.EmailSubscription(params.opsEmail));
    this.allowAlarmsToPublish(props.key);
    const action = new cwActions.SnsAction(this.opsTopic);
    const alarm = this.alarm = (id: string, p: cw.AlarmProps) => {
      if (!p.alarmName?.startsWith(ALARM_NAME_PREFIX)) throw new Error(`alarm ${id}: name must start with ${ALARM_NAME_PREFIX}`);
      const a = new cw.Alarm(this, id, { treatMissingData: cw.TreatMissingData.NOT_BREACHING, ...p });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    // Every function: any error, any throttle.
    for (const [name, { fn }] of Object.entries(functions)) {
      alarm(`${name}-Errors`, {
        alarmName: `playback-${name}-errors`,
        alarmDescription: `${name} returned errors (poison pills are handled; this is a failed invocation).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
        threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
      });
      alarm(`${name}-Throttles`, {
        alarmName: `playback-${name}-throttles`,
        alarmDescription: `${name} was throttled.`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: cw.Stats.SUM }),
        threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
      });
    }

    // Permissions, a missing resource, a disabled key, a corrupt item: retrying cannot help,
    // the deployment or the data needs a person (Errors also fires, without the why).
    for (const name of EVENT_SOURCE_FUNCTIONS) {
      alarm(`${name}-NonRetriableErrors`, {
        alarmName: `${ALARM_NAME_PREFIX}${name}-non-retriable-errors`,
        alarmDescription: `${name} hit an error no retry fixes (AccessDenied, missing resource, disabled key, corrupt item): see its logs.`,
        metric: new cw.Metric({
          namespace: METRICS_NAMESPACE, metricName: NON_RETRIABLE_METRIC, dimensionsMap: { Function: name },
          statistic: cw.Stats.SUM, period: Duration.minutes(1),
        }),
        threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
      });
    }

    // SRE blind: without session starts on the quality queue no failure rate has a
    // denominator and nothing can page (producers stopped sending them, or sre-buffer is down).
    alarm('Sre-Blind', {
      alarmName: `${ALARM_NAME_PREFIX}sre-buffer-blind`,
      alarmDescription: `No playback attempt reached sre-buffer for ${SRE_BLIND_MINUTES} minutes: SRE outage detection is blind (check the quality-queue producers and sre-buffer).`,
      metric: new cw.Metric({
        namespace: METRICS_NAMESPACE, metricName: SRE_ATTEMPTS_METRIC, dimensionsMap: { Function: 'sre-buffer' },
        statistic: cw.Stats.SUM, period: Duration.minutes(5),
      }),
      threshold: 1, comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: SRE_BLIND_MINUTES / 5,
      treatMissingData: cw.TreatMissingData.BREACHING,
    });

    // The canonical table falling behind: no successful merge (missing data
    // breaches) or the committed data older than the threshold.
    const cmCfg = props.topology.canonical;
    alarm('canonical-merge-WatermarkLag', {
      alarmName: `${ALARM_NAME_PREFIX}canonical-merge-watermark-lag`,
      alarmDescription: `The canonical table's committed data is more than ${cmCfg.lag_alarm_minutes} minutes behind, or no merge succeeded (functions/canonical-merge).`,
      metric: new cw.Metric({
        namespace: METRICS_NAMESPACE, metricName: 'CanonicalWatermarkLagSeconds', dimensionsMap: { Function: 'canonical-merge', Action: 'merge' },
        statistic: cw.Stats.MAXIMUM, period: Duration.minutes(cmCfg.merge_every_minutes),
      }),
      threshold: cmCfg.lag_alarm_minutes * 60, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cw.TreatMissingData.BREACHING,
    });

    // Stream consumers falling behind.
    // Alarms get unlabeled metrics (a label turns the alarm into a metric-math alarm).
    const iteratorAge = (name: FunctionName) => functions[name].fn.metric('IteratorAge', {
      statistic: cw.Stats.MAXIMUM, period: Duration.minutes(1),
    });
    for (const name of STREAM_CONSUMERS) {
      alarm(`${name}-IteratorAge`, {
        alarmName: `playback-${name}-iterator-age`,
        alarmDescription: `${name} is more than ${params.iteratorAgeAlarmSeconds}s behind the stream.`,
        metric: iteratorAge(name),
        threshold: params.iteratorAgeAlarmSeconds * 1000,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5, datapointsToAlarm: 3,
      });
    }
    // The one shared-throughput (GetRecords) reader of the stream is Firehose.
    const streamAge = props.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: cw.Stats.MAXIMUM, period: Duration.minutes(1) });
    alarm('Stream-IteratorAge', {
      alarmName: 'playback-stream-getrecords-iterator-age',
      alarmDescription: 'Firehose (the GetRecords reader) is falling behind the stream.',
      metric: streamAge,
      threshold: Math.max(params.iteratorAgeAlarmSeconds, 300) * 1000,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5, datapointsToAlarm: 3,
    });

    // Dead-letter queues must stay empty.
    const dlqDepth = Object.entries(props.dlqs).map(([label, q]) => {
      const m = q.metricApproximateNumberOfMessagesVisible({ statistic: cw.Stats.MAXIMUM, period: Duration.minutes(5) });
      alarm(`Dlq-${label}`, {
        alarmName: `playback-dlq-${label}-not-empty`,
        alarmDescription: `Messages are waiting in ${label}: inspect and redrive.`,
        metric: m, threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
      });
      return m.with({ label });
    });

    // Firehose delivery to S3.
    const fhMetric = (metricName: string, statistic: string) => new cw.Metric({
      namespace: 'AWS/Firehose', metricName, statistic, period: Duration.minutes(5),
      dimensionsMap: { DeliveryStreamName: props.deliveryStream.ref },
    });
    alarm('Firehose-DeliverySuccess', {
      alarmName: 'playback-firehose-delivery-failing',
      alarmDescription: 'Firehose deliveries to the lake bucket are failing (DeliveryToS3.Success < 1).',
      metric: fhMetric('DeliveryToS3.Success', cw.Stats.AVERAGE),
      threshold: 1, comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD, evaluationPeriods: 3,
    });
    const freshnessLimitS = t.lake.buffer_s + 600;
    alarm('Firehose-DataFreshness', {
      alarmName: 'playback-firehose-data-freshness',
      alarmDescription: `The oldest record in Firehose is older than ${freshnessLimitS}s (buffer interval + 10 min).`,
      metric: fhMetric('DeliveryToS3.DataFreshness', cw.Stats.MAXIMUM),
      threshold: freshnessLimitS, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 3,
    });

    alarm('Firehose-FailedConversion', {
      alarmName: 'playback-firehose-failed-conversion',
      alarmDescription: `Records failed Parquet conversion and went to ${t.lake.error_prefix}format-conversion-failed/.`,
      metric: fhMetric('FailedConversion.Records', cw.Stats.SUM),
      threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
    });

    // Dashboard.
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: 'playback-pipeline',
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cw.IMetric[], width = 8) => new cw.GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      graph('Alerts raised (per region)', [emf('AlertsRaised', 'Sum', 'AlertsRaised')]),
      graph('Rebuffering ratio (per region)', [emf('RebufferingRatio', 'Average', 'RebufferingRatio')]),
      graph('Concurrent viewers (per region)', [emf('ConcurrentViewers', 'Maximum', 'ConcurrentViewers')]),
    );
    this.dashboard.addWidgets(
      graph('Poison pills (per consumer)', [emf('PoisonPills', 'Sum', 'PoisonPills')]),
      graph('SRE incidents', [emf('SreIncidents', 'Sum', 'SreIncidents')]),
      graph('Iterator age (ms)', [
        ...STREAM_CONSUMERS.map((n) => iteratorAge(n).with({ label: n })),
        streamAge.with({ label: 'stream (Firehose GetRecords)' }),
      ]),
    );
    // sre-buffer's per-slice rates (region x platform x app version): a bad build is its own line.
    this.dashboard.addWidgets(
      graph('Playback failure rate (per slice)', [emf('PlaybackFailureRate', 'Maximum', 'PlaybackFailureRate')]),
      graph('Video-start failure rate (per slice)', [emf('VideoStartFailureRate', 'Maximum', 'VideoStartFailureRate')]),
      graph('Rebuffer starts per session-minute (per slice)', [emf('RebufferStartsPerSessionMinute', 'Maximum', 'RebufferStartsPerSessionMinute')]),
    );
    // The ingest edge (functions/collector, dimensions Function and App).
    this.dashboard.addWidgets(
      graph('Collector events (per app)', [emf('EventsAccepted', 'Sum', 'EventsAccepted'), emf('EventsRejected', 'Sum', 'EventsRejected')]),
      graph('Collector write failures', [emf('StreamWriteFailures', 'Sum', 'StreamWriteFailures'),
        emf('SreQueueWriteFailures', 'Sum', 'SreQueueWriteFailures'), emf('DeadLetterWriteFailures', 'Sum', 'DeadLetterWriteFailures')]),
      graph('Player clock skew (ms, per app)', [emf('ClockLeadMaxMs', 'Maximum', 'ClockLeadMaxMs'), emf('ClockLagMaxMs', 'Maximum', 'ClockLagMaxMs')]),
    );
    this.dashboard.addWidgets(
      graph('DLQ depth', dlqDepth),
      graph('Function errors', FUNCTION_NAMES.filter((n) => functions[n]).map((n) => functions[n].fn.metricErrors({ label: n, period: Duration.minutes(5) }))),
      graph('Firehose delivery', [fhMetric('DeliveryToS3.Success', cw.Stats.AVERAGE), fhMetric('DeliveryToS3.DataFreshness', cw.Stats.MAXIMUM)]),
    );
  }

  /**
   * enforceSSL gives the topic a policy of its own (the TLS deny), which replaces SNS's
   * default policy, so CloudWatch needs an explicit allow; the topic is CMK-encrypted, so
   * it also needs the key (SNS guide, "Enable compatibility between event sources from
   * AWS services and encrypted topics"). Both are limited to this stack's alarms (the
   * name prefix) in this account and region: no other alarm can page our on-call.
   */
  private allowAlarmsToPublish(key: kms.IKey): void {
    const { partition, region, account } = Stack.of(this);
    const principals = [new iam.ServicePrincipal('cloudwatch.amazonaws.com')];
    const conditions = {
      ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:${ALARM_NAME_PREFIX}*` },
      StringEquals: { 'aws:SourceAccount': account },
    };
    this.opsTopic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish', principals, actions: ['sns:Publish'], resources: [this.opsTopic.topicArn], conditions,
    }));
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublish', principals, actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'], // in a key policy "*" means this key
      conditions,
    }));
  }
}
