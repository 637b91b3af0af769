// The daily long-horizon run (lib/long-horizon.ts): what the schedule starts,
// the write budget the Map can reach, what the function may do, the alarms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LONG_HORIZON, LONG_HORIZON_FUNCTION, loadTrainingColumns, TRAINING_TABLE } from '../lib/long-horizon';
import { defaultTemplate, logicalIdOf, only, refs, resources, topology } from './helpers';

const t = defaultTemplate();
const json = t.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
const [fnId, fn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === LONG_HORIZON_FUNCTION);
const roleId = fn.Properties!.Role['Fn::GetAtt'][0] as string;
const [smId, sm] = only(t, 'AWS::StepFunctions::StateMachine', (r) => r.Properties.StateMachineName === LONG_HORIZON_FUNCTION);
const featuresTable = logicalIdOf(t, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === topology.tables.features.name);
const streamId = logicalIdOf(t, 'AWS::Kinesis::Stream', () => true);
const opsTopic = logicalIdOf(t, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'playback-ops-alarms');

/** The state machine's definition as the JSON Step Functions gets (tokens as placeholders). */
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

describe('long-horizon run', () => {
  test('the 02:00 UTC schedule starts the state machine, and nothing else', () => {
    const rules = Object.values(resources(t, 'AWS::Events::Rule'))
      .filter((r) => r.Properties.Targets.some((x: any) => JSON.stringify(x.Arn).includes(smId)));
    assert.equal(rules.length, 1);
    const [rule] = rules;
    assert.equal(rule.Properties.ScheduleExpression, 'cron(0 2 * * ? *)');
    assert.deepEqual(rule.Properties.Targets.map((x: any) => x.Arn), [{ Ref: smId }]);
  });

  test('compute -> poll Athena until done -> list -> Distributed Map of publishes -> finish', () => {
    const d = definition();
    assert.equal(d.StartAt, 'Compute');
    assert.equal(d.States.Compute.Next, 'WaitForQuery');
    assert.equal(d.States.WaitForQuery.Next, 'PollQuery');
    assert.equal(d.States.PollQuery.Resource.includes('athena:getQueryExecution'), true);
    const choice = d.States['QueryDone?'];
    assert.equal(choice.Default, 'WaitForQuery');
    assert.deepEqual(choice.Choices.map((c: any) => c.Next), ['List', 'QueryFailed']);
    assert.equal(d.States.List.Next, 'Publish');
    assert.equal(d.States.Publish.ItemProcessor.ProcessorConfig.Mode, 'DISTRIBUTED');
    assert.equal(d.States.Publish.ItemsPath, '$.list.slices');
    assert.equal(d.States.Publish.Next, 'Finish');
    assert.equal(d.States.Publish.ToleratedFailurePercentage ?? 0, 0, 'no slice may stay failed');
    assert.equal(d.States.Finish.End, true);
  });

  test('Map concurrency x each publisher\'s pace stays within the stated DynamoDB write budget', () => {
    const maxConcurrency = definition().States.Publish.MaxConcurrency;
    const perPublisher = Number(fn.Properties!.Environment.Variables.WRITES_PER_S);
    assert.ok(maxConcurrency > 0 && perPublisher > 0);
    assert.ok(maxConcurrency * perPublisher <= LONG_HORIZON.writeBudgetPerS,
      `${maxConcurrency} x ${perPublisher} > ${LONG_HORIZON.writeBudgetPerS}`);
    // ...and the budget publishes 90 M active viewers within the state machine's limit.
    const minutes = 90e6 / (maxConcurrency * perPublisher) / 60;
    assert.ok(minutes < LONG_HORIZON.maxRunMinutes, `${minutes.toFixed(0)} min`);
    assert.equal(sm.Properties!.DefinitionString !== undefined, true);
  });

  test('the function may UpdateItem the features table and nothing else in DynamoDB, nothing on the stream', () => {
    const st = statements(roleId);
    const dynamo = st.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    assert.deepEqual(dynamo.flatMap((s) => list(s.Action)), ['dynamodb:UpdateItem']);
    assert.deepEqual([...refs(dynamo.map((s) => s.Resource))], [featuresTable]);
    assert.ok(!refs(st.map((s) => s.Resource)).has(streamId), 'no grant on the events stream');
    assert.ok(!st.some((s) => list(s.Action).some((a) => a.startsWith('kinesis:'))));
    // Writes to S3 only under the run prefix (and the Athena results bucket).
    const runs = st.find((s) => s.Sid === 'RunsWrite');
    assert.ok(JSON.stringify(runs?.Resource).includes(`/${topology.lake.long_horizon_prefix}*`));
    const s3Writes = st.filter((s) => list(s.Action).includes('s3:PutObject')).map((s) => s.Sid).sort();
    assert.deepEqual(s3Writes, ['AthenaResults', 'RunsWrite']);
  });

  test('the state machine\'s role may invoke only this function and poll Athena only on the workgroup', () => {
    const smRole = sm.Properties!.RoleArn['Fn::GetAtt'][0] as string;
    const st = statements(smRole);
    const invoke = st.filter((s) => list(s.Action).includes('lambda:InvokeFunction'));
    assert.ok(invoke.length > 0);
    for (const s of invoke) assert.deepEqual([...refs(s.Resource)], [fnId]);
    const athena = st.filter((s) => list(s.Action).some((a) => a.startsWith('athena:')));
    assert.deepEqual(athena.flatMap((s) => list(s.Action)), ['athena:getQueryExecution']);
    assert.match(JSON.stringify(athena[0].Resource), new RegExp(`workgroup/${topology.lake.athena_workgroup}`));
  });

  test('failed runs, long runs and write throttles alarm on the ops topic', () => {
    const alarms = Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const name of ['playback-long-horizon-failed', 'playback-long-horizon-duration', 'playback-long-horizon-write-throttles',
      `playback-${LONG_HORIZON_FUNCTION}-errors`]) {
      const a = alarms.find((x) => x.AlarmName === name);
      assert.ok(a, `no alarm ${name}`);
      assert.deepEqual(a.AlarmActions, [{ Ref: opsTopic }], name);
    }
    const failed = alarms.find((x) => x.AlarmName === 'playback-long-horizon-failed');
    const failedMetrics = failed.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
    assert.deepEqual(failedMetrics.map((m: any) => m.MetricName).sort(), ['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of failedMetrics) assert.deepEqual(m.Dimensions, [{ Name: 'StateMachineArn', Value: { Ref: smId } }]);
    const throttles = alarms.find((x) => x.AlarmName === 'playback-long-horizon-write-throttles');
    assert.deepEqual(throttles.Dimensions.map((d: any) => d.Name).sort(), ['Operation', 'TableName']);
    assert.deepEqual(throttles.Dimensions.find((d: any) => d.Name === 'TableName').Value, { Ref: featuresTable });
  });

  test('training_examples catalogues exactly the columns of events/training-columns.json, partitioned by dt', () => {
    const file = loadTrainingColumns();
    const [, table] = only(t, 'AWS::Glue::Table', (r) => r.Properties.TableInput.Name === TRAINING_TABLE);
    const ti = table.Properties.TableInput;
    assert.deepEqual(ti.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type]), file.columns.map((c) => [c.name, c.type]));
    assert.deepEqual(ti.PartitionKeys.map((c: any) => [c.Name, c.Type]), [['dt', 'string']]);
  });

  test('long_horizon_features: one partition per run at the prefix UNLOAD writes to', () => {
    const [, table] = only(t, 'AWS::Glue::Table', (r) => r.Properties.TableInput.Name === 'long_horizon_features');
    const ti = table.Properties.TableInput;
    assert.deepEqual(ti.PartitionKeys, [{ Name: 'as_of', Type: 'bigint' }]);
    assert.match(JSON.stringify(ti.Parameters['storage.location.template']), new RegExp(`${topology.lake.long_horizon_prefix}as_of=\\$\\{as_of\\}/`));
    assert.ok(!ti.StorageDescriptor.Columns.some((c: any) => c.Name === 'as_of'), 'as_of is the partition, not a data column');
  });
});
