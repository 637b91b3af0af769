// The canonical Iceberg table's job (functions/canonical-merge): schedules,
// least-privilege grants, alarms.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { EXTRA_FUNCTIONS } from '../lib/config';
import { CANONICAL_PREFIX, CANONICAL_TABLE, HOT_PREFIX, HOT_TABLES } from '../lib/functions';
import { defaultTemplate, resources, topology } from './helpers';

const t = defaultTemplate();
const json = t.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
const cm = EXTRA_FUNCTIONS['canonical-merge'];
const ct = topology.canonical;
const [fnId, fn] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'canonical-merge')!;
const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
const statements = Object.values(resources(t, 'AWS::IAM::Policy'))
  .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(roleId))
  .flatMap((p: any) => p.Properties.PolicyDocument.Statement) as { Sid?: string; Action: string | string[]; Resource: unknown }[];
const list = (a: string | string[]) => (Array.isArray(a) ? a : [a]);
const sid = (s: string) => {
  const found = statements.find((x) => x.Sid === s);
  assert.ok(found, `no statement ${s}`);
  return found;
};

describe('canonical-merge', () => {
  test('arm64, the environment the Rust Config reads', () => {
    const p = fn.Properties;
    assert.deepEqual(p.Architectures, ['arm64']);
    assert.equal(p.Timeout, cm.timeoutS);
    const env = p.Environment.Variables;
    assert.equal(env.CANONICAL_PREFIX, CANONICAL_PREFIX);
    assert.equal(env.SETTLE_S, String(2 * topology.lake.buffer_s));
    assert.equal(env.RETENTION_DAYS, String(ct.retention_days));
    assert.ok(ct.retention_days >= 35, 'royalty audits time-travel 35 days');
    assert.equal(env.GLUE_DATABASE, topology.lake.glue_database);
  });

  test('three schedules: merge every N minutes, optimize and vacuum daily, each with its action', () => {
    const rules = Object.values(resources(t, 'AWS::Events::Rule'))
      .map((r: any) => r.Properties)
      .filter((p) => JSON.stringify(p.Targets).includes(fnId));
    const byAction = Object.fromEntries(rules.map((p) => [JSON.parse(p.Targets[0].Input).action, p]));
    assert.deepEqual(Object.keys(byAction).sort(), ['merge', 'optimize', 'vacuum']);
    assert.equal(byAction.merge.ScheduleExpression, `rate(${ct.merge_every_minutes} minutes)`);
    assert.match(byAction.optimize.ScheduleExpression, /^cron\(/);
    assert.match(byAction.vacuum.ScheduleExpression, /^cron\(/);
  });

  test('Glue: create/update only the canonical table and the hot rollups; read the raw table', () => {
    const create = sid('CanonicalTable');
    assert.deepEqual(list(create.Action).sort(), ['glue:CreateTable', 'glue:UpdateTable']);
    const res = JSON.stringify(create.Resource);
    assert.ok(res.includes(`${topology.lake.glue_database}/${CANONICAL_TABLE}`));
    // Every rollup the job's SQL creates, and nothing else of the database.
    const ddl = fs.readFileSync(path.join(__dirname, '../athena/hot/tables.sql'), 'utf8');
    const created = [...ddl.matchAll(/CREATE TABLE IF NOT EXISTS playback\.(\w+)/g)].map((m) => m[1]).sort();
    assert.deepEqual([...HOT_TABLES].sort(), created);
    for (const h of HOT_TABLES) assert.ok(res.includes(`${topology.lake.glue_database}/${h}`), h);
    assert.equal(create.Resource.length, 3 + HOT_TABLES.length, 'catalog, database, canonical, rollups');
    assert.ok(!res.includes(`${topology.lake.glue_database}/${topology.lake.glue_table}"`), 'never the raw table');
    const read = JSON.stringify(sid('GlueRead').Resource);
    assert.ok(read.includes(`${topology.lake.glue_database}/${topology.lake.glue_table}`));
    for (const s of statements) {
      for (const a of list(s.Action)) {
        if (a.startsWith('glue:')) assert.ok(!/Delete|BatchCreate|\*/.test(a), a);
      }
    }
  });

  test('S3: read the raw prefix, read/write/delete only under the canonical and hot prefixes', () => {
    const raw = sid('RawRead');
    assert.deepEqual(list(raw.Action), ['s3:GetObject']);
    assert.ok(JSON.stringify(raw.Resource).includes(`/${topology.lake.prefix}*`));
    const w = sid('CanonicalWrite');
    assert.ok(list(w.Action).includes('s3:DeleteObject'), 'VACUUM deletes nothing without it');
    assert.ok(JSON.stringify(w.Resource).includes(`/${CANONICAL_PREFIX}*`));
    assert.ok(JSON.stringify(w.Resource).includes(`/${HOT_PREFIX}*`));
    assert.equal(w.Resource.length, 2);
    for (const s of statements) {
      if (list(s.Action).some((a) => a === 's3:DeleteObject' || a === 's3:PutObject') && s.Sid !== 'AthenaResults') {
        assert.equal(s.Sid, 'CanonicalWrite');
      }
    }
  });

  test('alarms: job failure (Errors) and watermark lag with missing data breaching', () => {
    const alarms = Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((r: any) => r.Properties);
    const errors = alarms.find((a) => a.AlarmName === 'playback-canonical-merge-errors');
    assert.ok(errors);
    const lag = alarms.find((a) => a.MetricName === 'CanonicalWatermarkLagSeconds');
    assert.ok(lag);
    assert.equal(lag.TreatMissingData, 'breaching');
    assert.equal(lag.Threshold, ct.lag_alarm_minutes * 60);
    assert.deepEqual(lag.Dimensions.map((d: any) => [d.Name, d.Value]).sort(), [['Action', 'merge'], ['Function', 'canonical-merge']]);
  });
});
