// Deploy-time parameters, Lambda code resolution and checkov suppressions.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { MissingLambdaCodeError } from '../lib/code';
import { FUNCTION_NAMES } from '../lib/config';
import { sqsVisibilityTimeoutS } from '../lib/state';
import { buildStack, defaultTemplate, resources, synth, tempDir, topology } from './helpers';

describe('stream parameters', () => {
  test('-c shardCount=N makes the stream provisioned with N shards', () => {
    synth({ context: { shardCount: '6' } }).hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 6,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });
  test('-c retentionHours up to 365 days', () => {
    synth({ context: { retentionHours: '8760' } }).hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: 8760 });
    assert.throws(() => buildStack({ context: { retentionHours: '8761' } }), /24\.\.8760/);
    assert.throws(() => buildStack({ context: { retentionHours: '12' } }), /24\.\.8760/);
  });
  test('-c startingPosition=TRIM_HORIZON applies to both stream mappings', () => {
    const t = synth({ context: { startingPosition: 'TRIM_HORIZON' } });
    const positions = Object.values(resources(t, 'AWS::Lambda::EventSourceMapping'))
      .map((r) => r.Properties.StartingPosition).filter((p) => p !== undefined);
    assert.deepEqual(positions, ['TRIM_HORIZON', 'TRIM_HORIZON']);
    assert.throws(() => buildStack({ context: { startingPosition: 'AT_TIMESTAMP' } }), /LATEST or TRIM_HORIZON/);
  });
  test('-c reserveConcurrency=false drops the reservation and records why', () => {
    const t = synth({ context: { reserveConcurrency: 'false' } });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'royalty-close', ReservedConcurrentExecutions: Match.absent() });
    t.hasResource('AWS::Lambda::Function', {
      Properties: { FunctionName: 'royalty-close' },
      Metadata: { checkov: { skip: Match.arrayWith([Match.objectLike({ id: 'CKV_AWS_115' })]) } },
    });
  });
  test('-c retainData=false lets the stack delete its data stores', () => {
    const t = synth({ context: { retainData: 'false' } });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    t.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });
  test('SQS visibility timeout is 6x function timeout plus the batching window', () => {
    const s = topology.sre_buffer;
    assert.equal(sqsVisibilityTimeoutS(s), Math.max(s.visibility_timeout_s, 6 * s.timeout_s + s.batching_window_s));
  });
});

describe('Lambda code', () => {
  test('without placeholderCode a missing zip fails fast and says to run make build', () => {
    assert.throws(
      () => buildStack({ context: { placeholderCode: 'false' } }),
      (e: Error) => e instanceof MissingLambdaCodeError && /make build/.test(e.message) && !e.message.includes('\n'),
    );
  });
  test('built zips are used when present, even without placeholderCode', () => {
    const dir = tempDir('lambda-target-');
    for (const name of FUNCTION_NAMES) {
      fs.mkdirSync(path.join(dir, name), { recursive: true });
      fs.writeFileSync(path.join(dir, name, 'bootstrap.zip'), `fake zip for ${name}`);
    }
    const t = synth({ context: { placeholderCode: 'false' }, lambdaTargetDir: dir });
    const keys = new Set(Object.values(resources(t, 'AWS::Lambda::Function')).map((r) => JSON.stringify(r.Properties.Code.S3Key)));
    assert.equal(keys.size, FUNCTION_NAMES.length, 'one distinct asset per function');
  });
  test('the placeholder bootstrap is committed and executable', () => {
    const f = path.join(__dirname, '..', 'assets', 'placeholder', 'bootstrap');
    assert.ok(fs.statSync(f).mode & 0o111);
    assert.match(fs.readFileSync(f, 'utf8'), /exit 1/);
  });
});

describe('checkov suppressions', () => {
  const t = defaultTemplate();
  const skips = Object.entries(t.toJSON().Resources as Record<string, any>)
    .flatMap(([id, r]) => (r.Metadata?.checkov?.skip ?? []).map((s: any) => ({ resource: id, ...s })));
  test('every suppression has a check id and a one-line reason', () => {
    assert.ok(skips.length > 0);
    for (const s of skips) {
      assert.match(s.id, /^CKV2?_AWS_\d+$/);
      assert.ok(typeof s.comment === 'string' && s.comment.length > 20 && !s.comment.includes('\n'), s.resource);
    }
  });
  test('only the reviewed checks are suppressed', () => {
    const ids = [...new Set(skips.map((s) => s.id))].sort();
    // CKV_AWS_258: the collector's function URL (app-key auth in the function).
    assert.deepEqual(ids, ['CKV_AWS_115', 'CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_18', 'CKV_AWS_258']);
  });
});

describe('Makefile.fragment', () => {
  test('INFRA_FUNCTIONS lists exactly the stack\'s functions', () => {
    const mk = fs.readFileSync(path.join(__dirname, '..', 'Makefile.fragment'), 'utf8');
    const line = mk.split('\n').find((l) => l.startsWith('INFRA_FUNCTIONS :='));
    assert.ok(line);
    assert.deepEqual(line.split(':=')[1].trim().split(/\s+/), [...FUNCTION_NAMES]);
  });
  test('every target the top Makefile expects has a ## description', () => {
    const mk = fs.readFileSync(path.join(__dirname, '..', 'Makefile.fragment'), 'utf8');
    for (const target of ['infra-deps', 'synth', 'infra-test', 'deploy']) {
      assert.match(mk, new RegExp(`^${target}:.*?## `, 'm'), target);
    }
  });
});
