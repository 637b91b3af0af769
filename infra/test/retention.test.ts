// Data retention (-c retainData): deleting the stack keeps every data store, or
// removes every one, never a mix. A store retained under a fixed name blocks the
// next deploy; a non-empty bucket under Delete makes the stack deletion fail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Resource, synth } from './helpers';

/** Resource types that hold data (or its encryption key) and so follow retainData. */
const STORES = [
  'AWS::KMS::Key', 'AWS::Kinesis::Stream', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue',
  'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::Logs::LogStream',
];

for (const retainData of [true, false]) {
  describe(`-c retainData=${retainData}`, () => {
    const all = synth({ context: { retainData: String(retainData) } }).toJSON().Resources as Record<string, Resource & { DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
    const of = (type: string) => Object.entries(all).filter(([, r]) => r.Type === type);
    const expected = retainData ? 'Retain' : 'Delete';

    for (const type of STORES) {
      test(`every ${type} has DeletionPolicy and UpdateReplacePolicy ${expected}`, () => {
        const found = of(type);
        assert.ok(found.length > 0, `no ${type}`);
        for (const [id, r] of found) {
          assert.equal(r.DeletionPolicy, expected, `${id} DeletionPolicy`);
          assert.equal(r.UpdateReplacePolicy, expected, `${id} UpdateReplacePolicy`);
        }
      });
    }

    if (retainData) {
      test('no bucket is emptied on deletion', () => {
        assert.deepEqual(of('Custom::S3AutoDeleteObjects'), []);
      });
      test('tables are protected from deletion', () => {
        for (const [id, r] of of('AWS::DynamoDB::Table')) assert.equal(r.Properties.DeletionProtectionEnabled, true, id);
      });
    } else {
      test('nothing at all is retained', () => {
        const kept = Object.entries(all).filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate');
        assert.deepEqual(kept.map(([id]) => id), []);
      });
      test('every bucket (all versioned and written to) is emptied before deletion', () => {
        const emptied = new Set(of('Custom::S3AutoDeleteObjects').map(([, r]) => r.Properties.BucketName?.Ref));
        for (const [id, r] of of('AWS::S3::Bucket')) {
          assert.equal(r.Properties.VersioningConfiguration?.Status, 'Enabled', `${id}: versioned (auto-delete removes every version)`);
          assert.ok(emptied.has(id), `${id} has no auto-delete`);
        }
      });
      test('tables are not protected from deletion', () => {
        for (const [id, r] of of('AWS::DynamoDB::Table')) assert.equal(r.Properties.DeletionProtectionEnabled, false, id);
      });
    }
  });
}
