// The daily training build (lib/training-build.ts): what the schedule starts,
// a slice per bucket within Athena's partition limit, what the function may
// touch (its own prefix, nothing in DynamoDB or Kinesis), the alarms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LONG_HORIZON_FUNCTION } from '../lib/long-horizon';
import { TRAINING_BUILD, TRAINING_FUNCTION } from '../lib/training-build';
import { defaultTemplate, logicalIdOf, only, refs, resources, topology } from './helpers';

const t = defaultTemplate();
const [fnId, fn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === TRAINING_FUNCTION);
const [, lhFn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === LONG_HORIZON_FUNCTION);
const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
const [smId, sm] = only(t, 'AWS::StepFunctions::StateMachine', (r) => r.Properties.StateMachineName === TRAINING_FUNCTION);
const opsTopic = logicalIdOf(t, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'playback-ops-alarms');

function definition(): any {
  const body = sm.Properties!.DefinitionString;
  const text = typeof body === 'string' ? body
    : (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
const statements = (role: string): Statement[] => Object.values(resources(t, 'AWS::IAM::Policy'))
  .filter((p) => (p.Properties.Roles ?? []).some((x: any) => x.Ref === role))
  .flatMap((p) => p.Properties.PolicyDocument.Statement);
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe('training build', () => {
  test('01:30 UTC starts the build; it runs the long-horizon binary with a slice-sized memory', () => {
    const rules = Object.values(resources(t, 'AWS::Events::Rule'))
      .filter((r) => r.Properties.Targets.some((x: any) => JSON.stringify(x.Arn).includes(smId)));
    assert.equal(rules.length, 1);
    assert.equal(rules[0].Properties.ScheduleExpression, 'cron(30 1 * * ? *)');
    assert.deepEqual(fn.Properties!.Code, lhFn.Properties!.Code, 'the same code as long-horizon-features');
    assert.equal(fn.Properties!.MemorySize, TRAINING_BUILD.memoryMb);
    assert.deepEqual(fn.Properties!.Architectures, ['arm64']);
    const env = fn.Properties!.Environment.Variables;
    assert.equal(Number(env.TRAINING_BUCKETS), TRAINING_BUILD.buckets);
    assert.ok(TRAINING_BUILD.buckets <= 100, 'Athena writes at most 100 partitions per query');
    assert.equal(Number(env.TRAINING_PASSES), TRAINING_BUILD.passes);
  });

  test('start -> poll Athena -> list -> one slice per bucket at once -> finish', () => {
    const d = definition();
    assert.equal(d.StartAt, 'Start');
    assert.equal(d.States.Start.Next, 'WaitForQuery');
    assert.deepEqual(d.States['QueryDone?'].Choices.map((c: any) => c.Next), ['List', 'QueryFailed']);
    assert.equal(d.States.List.Next, 'Slices');
    const map = d.States.Slices;
    assert.equal(map.ItemProcessor.ProcessorConfig.Mode, 'DISTRIBUTED');
    assert.equal(map.ItemsPath, '$.list.slices');
    assert.equal(map.ItemSelector.action, 'training_slice');
    assert.ok(map.MaxConcurrency >= TRAINING_BUILD.buckets, 'every bucket at once: the day takes one slice\'s time');
    assert.equal(map.ToleratedFailurePercentage ?? 0, 0, 'a failed slice would leave a gap in its bucket');
    assert.equal(map.Next, 'Finish');
    assert.equal(d.States.Finish.End, true);
  });

  test('the function writes only under the training prefix, reads the sources, touches no table or stream', () => {
    const st = statements(roleId);
    assert.ok(!st.some((s) => list(s.Action).some((a) => a.startsWith('dynamodb:') || a.startsWith('kinesis:'))));
    const writes = st.filter((s) => list(s.Action).some((a) => a === 's3:PutObject' || a === 's3:DeleteObject'));
    assert.deepEqual(writes.map((s) => s.Sid).sort(), ['AthenaResults', 'TrainingWrite']);
    const own = writes.find((s) => s.Sid === 'TrainingWrite');
    assert.ok(JSON.stringify(own?.Resource).includes(`/${topology.lake.training_prefix}*`));
    const reads = JSON.stringify(st.find((s) => s.Sid === 'SourcesRead')?.Resource);
    for (const p of ['canonical/', topology.lake.catalogue_prefix, topology.lake.long_horizon_prefix]) assert.ok(reads.includes(`/${p}*`), p);
    const smRole = sm.Properties!.RoleArn['Fn::GetAtt'][0] as string;
    for (const s of statements(smRole).filter((x) => list(x.Action).includes('lambda:InvokeFunction'))) {
      assert.deepEqual([...refs(s.Resource)], [fnId]);
    }
  });

  test('the build\'s inputs and states expire; the examples do not', () => {
    const [, bucket] = only(t, 'AWS::S3::Bucket', (r) => JSON.stringify(r.Properties.BucketName ?? '').includes(topology.lake.bucket));
    const rules = bucket.Properties.LifecycleConfiguration.Rules as any[];
    const byId = (id: string) => rules.find((r) => r.Id === id);
    assert.equal(byId('expire-training-inputs').Prefix, `${topology.lake.training_prefix}_inputs/`);
    assert.equal(byId('expire-training-inputs').ExpirationInDays, TRAINING_BUILD.inputsKeptDays);
    assert.equal(byId('expire-training-state').Prefix, `${topology.lake.training_prefix}_state/`);
    assert.ok(TRAINING_BUILD.stateKeptDays > 7, 'a week of days can be re-run');
    assert.ok(!rules.some((r) => r.ExpirationInDays && (r.Prefix ?? '') === topology.lake.training_prefix), 'the examples stay');
  });

  test('a failed or long build, and any function error, alarm on the ops topic', () => {
    const alarms = Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const name of ['playback-training-build-failed', 'playback-training-build-duration', `playback-${TRAINING_FUNCTION}-errors`]) {
      const a = alarms.find((x) => x.AlarmName === name);
      assert.ok(a, `no alarm ${name}`);
      assert.deepEqual(a.AlarmActions, [{ Ref: opsTopic }], name);
    }
    const failed = alarms.find((x) => x.AlarmName === 'playback-training-build-failed');
    for (const m of failed.Metrics.filter((x: any) => x.MetricStat)) {
      assert.deepEqual(m.MetricStat.Metric.Dimensions, [{ Name: 'StateMachineArn', Value: { Ref: smId } }]);
    }
  });
});
