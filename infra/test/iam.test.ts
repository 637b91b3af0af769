// Least privilege: walk every IAM policy attached to the function roles (and the
// Firehose delivery role) and fail on `Resource: "*"`, wildcard actions, managed
// policies, or a grant on another function's resources.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FUNCTION_NAMES, FunctionName } from '../lib/config';
import { KEYS_TABLE } from '../lib/collector';
import { CANONICAL_PREFIX, CANONICAL_TABLE, LEDGER_TABLE } from '../lib/functions';
import { defaultTemplate, logicalIdOf, refs, resources, topology } from './helpers';
import { decide, ENV, resolve, Template } from './policy';

/**
 * Actions that may use `Resource: "*"` because AWS offers no resource-level
 * permission for them, each with the reason. Anything else on "*" fails.
 */
export const STAR_RESOURCE_ALLOW_LIST: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions (only if tracing is enabled)',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions (only if tracing is enabled)',
};

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

const t = defaultTemplate();
const json = t.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
const roleOf = (name: string) => {
  const fn = Object.values(json.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === name);
  assert.ok(fn, `no function ${name}`);
  return fn.Properties.Role['Fn::GetAtt'][0] as string;
};
const functionRoles = Object.fromEntries(FUNCTION_NAMES.map((n) => [n, roleOf(n)])) as Record<FunctionName, string>;
const firehoseRole = logicalIdOf(t, 'AWS::IAM::Role', (r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('firehose.amazonaws.com'));
const allRoles = [...Object.values(functionRoles), firehoseRole];

/** Every statement that applies to `roleId`: attached AWS::IAM::Policy documents and inline role policies. */
function statementsOf(roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(json.Resources)) {
    if (r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles ?? []).some((x: any) => x.Ref === roleId)) {
      out.push(...r.Properties.PolicyDocument.Statement);
    }
  }
  for (const p of json.Resources[roleId].Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  return out;
}
const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

describe('IAM policies of the function and Firehose roles', () => {
  test('the walk finds every role and its statements', () => {
    assert.equal(allRoles.length, FUNCTION_NAMES.length + 1);
    for (const r of allRoles) assert.ok(statementsOf(r).length > 0, r);
  });

  test('no Resource "*" except allow-listed actions', () => {
    const offenders: string[] = [];
    for (const role of allRoles) {
      for (const s of statementsOf(role)) {
        if (!asList(s.Resource).includes('*')) continue;
        for (const a of asList(s.Action)) {
          if (!(a in STAR_RESOURCE_ALLOW_LIST)) offenders.push(`${role}: ${a} on "*"`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });

  test('every allow-list entry has a reason', () => {
    for (const [a, why] of Object.entries(STAR_RESOURCE_ALLOW_LIST)) assert.ok(why.trim().length > 10, a);
  });

  test('no wildcard actions (service:* or *)', () => {
    for (const role of allRoles) {
      for (const s of statementsOf(role)) {
        for (const a of asList(s.Action)) assert.ok(a !== '*' && !a.endsWith(':*'), `${role}: ${a}`);
      }
    }
  });

  test('no managed policies, no inline role policies outside the walk', () => {
    for (const role of allRoles) {
      const p = json.Resources[role].Properties;
      assert.equal(p.ManagedPolicyArns, undefined, role);
    }
  });

  test('no cloudwatch:PutMetricData (metrics go through EMF logs)', () => {
    for (const role of allRoles) {
      for (const s of statementsOf(role)) assert.ok(!asList(s.Action).includes('cloudwatch:PutMetricData'), role);
    }
  });
});

describe('each function role touches only its own resources', () => {
  const ids = (type: string) => new Set(Object.keys(resources(t, type)));
  const tables = ids('AWS::DynamoDB::Table');
  const queues = ids('AWS::SQS::Queue');
  const topics = ids('AWS::SNS::Topic');
  const buckets = ids('AWS::S3::Bucket');
  const tableId = (k: keyof typeof topology.tables) => logicalIdOf(t, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === topology.tables[k].name);
  const queueId = (n: string) => logicalIdOf(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === n);
  const alertsTopic = logicalIdOf(t, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === topology.alerts.topic);
  const lakeBucket = logicalIdOf(t, 'AWS::S3::Bucket', (r) => JSON.stringify(r.Properties.BucketName ?? '').includes(topology.lake.bucket));
  const resultsBucket = logicalIdOf(t, 'AWS::S3::Bucket', (r) => r.Properties.LifecycleConfiguration?.Rules?.[0]?.Id === 'expire-results');
  const poison = queueId(topology.poison_dlq);
  const keysTable = logicalIdOf(t, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === KEYS_TABLE.name);

  const expected: Record<FunctionName, string[]> = {
    'qoe-alerts': [tableId('windows'), tableId('alerts'), poison, alertsTopic],
    'session-features': [tableId('features'), poison],
    'sre-buffer': [tableId('sre'), poison, queueId(topology.sre_buffer.queue), alertsTopic],
    'firehose-transform': [],
    'royalty-close': [lakeBucket, resultsBucket],
    'canonical-merge': [lakeBucket, resultsBucket],
    'long-horizon-features': [tableId('features'), lakeBucket, resultsBucket],
    collector: [keysTable, poison, queueId(topology.sre_buffer.queue)],
  };
  for (const name of FUNCTION_NAMES) {
    test(name, () => {
      const referenced = refs(statementsOf(functionRoles[name]).map((s) => s.Resource));
      const data = [...referenced].filter((id) => tables.has(id) || queues.has(id) || topics.has(id) || buckets.has(id));
      assert.deepEqual(data.sort(), [...expected[name]].sort());
    });
  }

  test('table grants name exact DynamoDB actions', () => {
    const actions = (name: FunctionName) => statementsOf(functionRoles[name])
      .flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('dynamodb:')).sort();
    assert.deepEqual(actions('qoe-alerts'), ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    assert.deepEqual(actions('session-features'), ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    assert.deepEqual(actions('long-horizon-features'), ['dynamodb:UpdateItem']);
    assert.deepEqual(actions('sre-buffer'), ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    assert.deepEqual(actions('firehose-transform'), []);
    assert.deepEqual(actions('collector'), ['dynamodb:GetItem', 'dynamodb:Query']);
  });

  test('royalty-close: Athena on its workgroup, Glue on catalog/database/table ARNs, writes only under reports_prefix', () => {
    const st = statementsOf(functionRoles['royalty-close']);
    const bySid = (sid: string) => st.find((s) => s.Sid === sid);
    assert.match(JSON.stringify(bySid('AthenaWorkgroup')?.Resource), new RegExp(`:workgroup/${topology.lake.athena_workgroup}"`));
    const glue = JSON.stringify(bySid('GlueCatalog')?.Resource);
    for (const part of [':catalog"', `:database/${topology.lake.glue_database}"`, `:table/${topology.lake.glue_database}/${CANONICAL_TABLE}"`]) {
      assert.ok(glue.includes(part), `${part} in ${glue}`);
    }
    assert.match(JSON.stringify(bySid('ReportsWrite')?.Resource), new RegExp(`/${topology.lake.reports_prefix}\\*"`));
    // It reads the canonical table, never the raw log.
    const read = JSON.stringify(bySid('LakeRead')?.Resource);
    assert.ok(read.includes(`/${CANONICAL_PREFIX}*`), read);
    assert.ok(!read.includes(`/${topology.lake.prefix}*`), read);
    assert.ok(!glue.includes(`:table/${topology.lake.glue_database}/${topology.lake.glue_table}"`), glue);
  });
});

describe('royalty-close can run its Athena DDL and queries', () => {
  // Athena needs a non-delete Glue action on the table and on all its ancestors
  // (Athena guide: fine-grained access to databases and tables in the Glue Data Catalog);
  // the actions are that guide's CREATE TABLE and query examples.
  const role = functionRoles['royalty-close'];
  const st = statementsOf(role) as any[];
  const db = topology.lake.glue_database;
  const glue = (res: string) => `arn:${ENV.partition}:glue:${ENV.region}:${ENV.account}:${res}`;
  const catalog = glue('catalog');
  const database = glue(`database/${db}`);
  const table = (name: string) => glue(`table/${db}/${name}`);
  const can = (action: string, arn: string) =>
    decide(json as Template, st, { arn: resolve(json as Template, { 'Fn::GetAtt': [role, 'Arn'] }), action, resource: arn }, false) === 'Allow';
  const needs: [string, string][] = [
    ...['glue:CreateTable', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'].map((a): [string, string] => [a, LEDGER_TABLE]),
    ...['glue:GetTable', 'glue:GetPartitions'].map((a): [string, string] => [a, CANONICAL_TABLE]),
  ];
  for (const [action, name] of needs) {
    test(`${action} on ${db}.${name}: allowed on the table, its database and the catalog`, () => {
      for (const arn of [catalog, database, table(name)]) assert.ok(can(action, arn), `${action} on ${arn}`);
    });
  }
  test('glue:GetDatabase on the database and the catalog', () => {
    for (const arn of [catalog, database]) assert.ok(can('glue:GetDatabase', arn), arn);
  });
  test('CREATE TABLE only for the ledger: not for the events table nor any other', () => {
    assert.ok(!can('glue:CreateTable', table(topology.lake.glue_table)));
    assert.ok(!can('glue:CreateTable', table('anything_else')));
    assert.ok(!can('glue:DeleteTable', table(LEDGER_TABLE)));
  });
  test('the LedgerTable statement names exactly the catalog, the database and the ledger table', () => {
    const s = st.find((x) => x.Sid === 'LedgerTable');
    const arns = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r: unknown) => resolve(json as Template, r));
    assert.deepEqual(arns.sort(), [catalog, database, table(LEDGER_TABLE)].sort());
  });
});
