// Alarms and dashboard.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FUNCTION_NAMES } from '../lib/config';
import { EVENT_SOURCE_FUNCTIONS, METRICS_NAMESPACE, NON_RETRIABLE_METRIC, SRE_ATTEMPTS_METRIC, SRE_BLIND_MINUTES, STREAM_CONSUMERS } from '../lib/monitoring';
import { defaultTemplate, logicalIdOf, resources, topology } from './helpers';

const t = defaultTemplate();
const alarms = Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((r) => r.Properties);
const fnId = (name: string) => logicalIdOf(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === name);
const queueId = (name: string) => logicalIdOf(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === name);
const opsTopicId = logicalIdOf(t, 'AWS::SNS::Topic', (r) => r.Properties.TopicName !== topology.alerts.topic);

function alarmOn(metric: string, dimension: string, ref: unknown) {
  return alarms.filter((a) => a.MetricName === metric
    && (a.Dimensions ?? []).some((d: any) => d.Name === dimension && JSON.stringify(d.Value) === JSON.stringify(ref)));
}

describe('alarms', () => {
  for (const name of FUNCTION_NAMES) {
    test(`${name}: Errors and Throttles`, () => {
      assert.equal(alarmOn('Errors', 'FunctionName', { Ref: fnId(name) }).length, 1);
      assert.equal(alarmOn('Throttles', 'FunctionName', { Ref: fnId(name) }).length, 1);
    });
  }
  for (const name of STREAM_CONSUMERS) {
    test(`${name}: IteratorAge`, () => {
      const [a] = alarmOn('IteratorAge', 'FunctionName', { Ref: fnId(name) });
      assert.ok(a, 'missing alarm');
      assert.equal(a.Statistic, 'Maximum');
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
    });
  }
  test('stream GetRecords.IteratorAgeMilliseconds (the Firehose reader)', () => {
    const streamId = logicalIdOf(t, 'AWS::Kinesis::Stream', () => true);
    assert.equal(alarmOn('GetRecords.IteratorAgeMilliseconds', 'StreamName', { Ref: streamId }).length, 1);
  });
  test('DLQ depth > 0 on both DLQs', () => {
    for (const q of [topology.poison_dlq, topology.sre_buffer.dlq]) {
      const [a] = alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', { 'Fn::GetAtt': [queueId(q), 'QueueName'] });
      assert.ok(a, `missing DLQ alarm for ${q}`);
      assert.equal(a.Threshold, 0);
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
    }
  });
  test('Firehose DeliveryToS3.Success < 1 and DataFreshness', () => {
    const success = alarms.find((a) => a.MetricName === 'DeliveryToS3.Success');
    assert.equal(success?.ComparisonOperator, 'LessThanThreshold');
    assert.equal(success?.Threshold, 1);
    assert.ok(alarms.find((a) => a.MetricName === 'DeliveryToS3.DataFreshness'));
    assert.ok(alarms.find((a) => a.MetricName === 'FailedConversion.Records'));
  });
  test('every function with a stream or queue mapping is in EVENT_SOURCE_FUNCTIONS', () => {
    const fnName = (id: string) => resources(t, 'AWS::Lambda::Function')[id].Properties.FunctionName;
    const mapped = new Set(Object.values(resources(t, 'AWS::Lambda::EventSourceMapping')).map((m) => fnName(m.Properties.FunctionName.Ref)));
    assert.deepEqual([...mapped].sort(), [...EVENT_SOURCE_FUNCTIONS].sort());
  });
  for (const name of EVENT_SOURCE_FUNCTIONS) {
    test(`${name}: NonRetriableErrors > 0 pages the ops topic, matching the EMF the function emits`, () => {
      // What crates/playback-aws/src/emf.rs prints for
      // emit(&[("Function", CONSUMER)], &[("NonRetriableErrors", 1.0, "Count")]).
      const emf = { _aws: { CloudWatchMetrics: [{ Namespace: 'Playback', Dimensions: [['Function']], Metrics: [{ Name: 'NonRetriableErrors', Unit: 'Count' }] }] }, Function: name, NonRetriableErrors: 1 };
      const [set] = emf._aws.CloudWatchMetrics;
      const emitted = { Namespace: set.Namespace, MetricName: set.Metrics[0].Name, Dimensions: set.Dimensions[0].map((d) => ({ Name: d, Value: (emf as any)[d] })) };
      const found = alarms.filter((a) => a.Namespace === METRICS_NAMESPACE && a.MetricName === NON_RETRIABLE_METRIC
        && JSON.stringify(a.Dimensions) === JSON.stringify(emitted.Dimensions));
      assert.equal(found.length, 1, `alarms on ${JSON.stringify(emitted)}`);
      const [a] = found;
      assert.deepEqual([a.Namespace, a.MetricName], [emitted.Namespace, emitted.MetricName]);
      assert.equal(a.Statistic, 'Sum');
      assert.equal(a.Threshold, 0);
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
      assert.equal(a.TreatMissingData, 'notBreaching');
      assert.deepEqual(a.AlarmActions, [{ Ref: opsTopicId }]);
      assert.deepEqual(a.OKActions, [{ Ref: opsTopicId }]);
    });
  }
  test('SRE blind: no playback attempt on sre-buffer for 15 min pages, missing data included', () => {
    // What functions/sre-buffer/src/lib.rs attempts_seen_document prints (its test pins it).
    const emf = { _aws: { CloudWatchMetrics: [{ Namespace: 'Playback', Dimensions: [['Function']], Metrics: [{ Name: 'SreAttemptsSeen', Unit: 'Count' }] }] }, Function: 'sre-buffer', SreAttemptsSeen: 0 };
    const [set] = emf._aws.CloudWatchMetrics;
    const dims = set.Dimensions[0].map((d) => ({ Name: d, Value: (emf as any)[d] }));
    const found = alarms.filter((a) => a.Namespace === METRICS_NAMESPACE && a.MetricName === set.Metrics[0].Name
      && JSON.stringify(a.Dimensions) === JSON.stringify(dims));
    assert.equal(found.length, 1);
    const [a] = found;
    assert.equal(a.MetricName, SRE_ATTEMPTS_METRIC);
    assert.deepEqual([a.Statistic, a.ComparisonOperator, a.Threshold], ['Sum', 'LessThanThreshold', 1]);
    assert.equal(a.Period * a.EvaluationPeriods, SRE_BLIND_MINUTES * 60);
    assert.equal(a.TreatMissingData, 'breaching', 'no metric at all is the blindest case');
    assert.deepEqual(a.AlarmActions, [{ Ref: opsTopicId }]);
  });
  test('every alarm notifies the ops topic', () => {
    assert.ok(alarms.length >= 2 * FUNCTION_NAMES.length + 2 + 1 + 2 + 3 + EVENT_SOURCE_FUNCTIONS.length + 1);
    for (const a of alarms) assert.deepEqual(a.AlarmActions, [{ Ref: opsTopicId }], a.AlarmName);
  });
});

describe('dashboard', () => {
  const [dash] = Object.values(resources(t, 'AWS::CloudWatch::Dashboard'));
  const body = JSON.stringify(dash.Properties.DashboardBody);
  for (const m of ['AlertsRaised', 'RebufferingRatio', 'ConcurrentViewers', 'PoisonPills', 'SreIncidents',
    'PlaybackFailureRate', 'VideoStartFailureRate', 'RebufferStartsPerSessionMinute']) {
    test(`shows the EMF metric ${m} (namespace Playback)`, () => {
      // The SEARCH expression is JSON inside JSON: tolerate any escaping of its quotes.
      const q = '\\\\*"';
      assert.match(body, new RegExp(`SEARCH\\(.*Namespace=${q}Playback${q} MetricName=${q}${m}${q}`), m);
    });
  }
  for (const m of ['IteratorAge', 'GetRecords.IteratorAgeMilliseconds', 'ApproximateNumberOfMessagesVisible', 'DeliveryToS3.DataFreshness']) {
    test(`shows ${m}`, () => assert.ok(body.includes(m), m));
  }
});
