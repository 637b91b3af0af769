// Who can publish to which topic: every topic an alarm notifies or a function is
// given must let that principal publish, through the topic policy and, for a
// CMK-encrypted topic, the key policy. Evaluated, not pattern-matched (policy.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALARM_NAME_PREFIX } from '../lib/monitoring';
import { defaultTemplate, resources } from './helpers';
import { decide, ENV, Request, resolve, Statement, Template } from './policy';

const t = defaultTemplate();
const json = t.toJSON() as Template;
const topics = resources(t, 'AWS::SNS::Topic');
const topicArn = (id: string) => resolve(json, { Ref: id });

/** Statements of every topic policy attached to `topicId`. */
function topicPolicy(topicId: string): Statement[] {
  const policies = Object.values(resources(t, 'AWS::SNS::TopicPolicy'))
    .filter((p) => p.Properties.Topics.some((x: any) => x.Ref === topicId));
  assert.ok(policies.length > 0, `${topicId} has no topic policy`);
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The key encrypting `topicId` and its key policy, or undefined for an unencrypted topic. */
function keyOf(topicId: string): { arn: string; policy: Statement[] } | undefined {
  const k = topics[topicId].Properties.KmsMasterKeyId;
  if (k === undefined) return undefined;
  const keyId = k['Fn::GetAtt']?.[0];
  assert.ok(keyId && json.Resources[keyId]?.Type === 'AWS::KMS::Key', `${topicId}: key ${JSON.stringify(k)} is not a CMK of this stack`);
  return { arn: resolve(json, k), policy: (json.Resources[keyId].Properties as any).KeyPolicy.Statement };
}

const alarmArn = (name: string, account = ENV.account) => `arn:${ENV.partition}:cloudwatch:${ENV.region}:${account}:alarm:${name}`;
const fromAlarm = (arn: string) => ({ 'aws:SourceArn': arn, 'aws:SourceAccount': arn.split(':')[4] });

/** Can CloudWatch, acting for the alarm `arn`, deliver a notification to `topicId`? */
function cloudWatchCanPublish(topicId: string, arn: string): string[] {
  const problems: string[] = [];
  const req = (action: string, resource: string): Request => ({ service: 'cloudwatch.amazonaws.com', action, resource, context: fromAlarm(arn) });
  const d = decide(json, topicPolicy(topicId), req('sns:Publish', topicArn(topicId)), true);
  if (d !== 'Allow') problems.push(`topic policy: sns:Publish ${d}`);
  const key = keyOf(topicId);
  for (const action of key ? ['kms:GenerateDataKey', 'kms:Decrypt'] : []) {
    const k = decide(json, key!.policy, req(action, key!.arn), true);
    if (k !== 'Allow') problems.push(`key policy: ${action} ${k}`);
  }
  return problems;
}

describe('alarms can notify their topics', () => {
  const alarms = Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((r) => r.Properties);
  test('every alarm has an action', () => {
    assert.ok(alarms.length > 0);
    for (const a of alarms) assert.ok((a.AlarmActions ?? []).length > 0, a.AlarmName);
  });
  for (const a of alarms) {
    test(`${a.AlarmName}: CloudWatch may publish to every topic it notifies`, () => {
      const targets = new Set<string>([...(a.AlarmActions ?? []), ...(a.OKActions ?? [])].map((x: any) => x.Ref));
      for (const topicId of targets) {
        assert.ok(topics[topicId], `${a.AlarmName} notifies ${topicId}, not a topic of this stack`);
        assert.deepEqual(cloudWatchCanPublish(topicId, alarmArn(a.AlarmName)), [], `${a.AlarmName} -> ${topicId}`);
      }
    });
  }
  test('other alarms of the account, and alarms of other accounts, cannot publish', () => {
    for (const topicId of Object.keys(topics)) {
      assert.notDeepEqual(cloudWatchCanPublish(topicId, alarmArn('someone-elses-alarm')), [], topicId);
      assert.notDeepEqual(cloudWatchCanPublish(topicId, alarmArn(`${ALARM_NAME_PREFIX}x`, '999999999999')), [], topicId);
    }
  });
});

describe('functions can publish to the topics they are given', () => {
  const fns = Object.values(resources(t, 'AWS::Lambda::Function')).map((r) => r.Properties);
  const givenTopics = (fn: any) => Object.entries<any>(fn.Environment?.Variables ?? {})
    .filter(([, v]) => v?.Ref && topics[v.Ref]).map(([k, v]) => [k, v.Ref as string]);
  const identity = (roleId: string): Statement[] => Object.values(resources(t, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles ?? []).some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('qoe-alerts is given the alerts topic (the walk finds it)', () => {
    const qoe = fns.find((f) => f.FunctionName === 'qoe-alerts');
    assert.deepEqual(givenTopics(qoe).map(([k]) => k), ['ALERTS_TOPIC_ARN']);
  });
  test('sre-buffer is given the alerts topic to page SRE incidents', () => {
    const sre = fns.find((f) => f.FunctionName === 'sre-buffer');
    assert.deepEqual(givenTopics(sre).map(([k]) => k), ['ALERTS_TOPIC_ARN']);
  });
  for (const fn of fns) {
    for (const [env, topicId] of givenTopics(fn)) {
      test(`${fn.FunctionName}: may publish to ${env}`, () => {
        const roleId = fn.Role['Fn::GetAtt'][0];
        const req = (action: string, resource: string): Request => ({ arn: resolve(json, fn.Role), action, resource });
        const topic = topicArn(topicId);
        assert.equal(decide(json, identity(roleId), req('sns:Publish', topic), false), 'Allow', 'role policy');
        // Same account: the identity policy suffices unless the topic policy denies.
        assert.notEqual(decide(json, topicPolicy(topicId), req('sns:Publish', topic), true), 'Deny', 'topic policy');
        const key = keyOf(topicId);
        for (const action of key ? ['kms:GenerateDataKey', 'kms:Decrypt'] : []) {
          assert.equal(decide(json, identity(roleId), req(action, key!.arn), false), 'Allow', `role policy ${action}`);
          assert.equal(decide(json, key!.policy, req(action, key!.arn), true), 'Allow', `key policy ${action}`);
        }
      });
    }
  }
});
