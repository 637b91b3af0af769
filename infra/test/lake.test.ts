// The lake: S3 buckets, Firehose (de-aggregation + Lambda + Parquet + dynamic
// partitioning), Glue table with partition projection, Athena workgroup and queries.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { DYNAMIC_PARTITIONING_MIN_BUFFER_MB } from '../lib/config';
import { DEFAULT_ATHENA_DIR } from '../lib/topology';
import { columns, defaultTemplate, logicalIdOf, only, resources, synth, tempDir, topology } from './helpers';

const t = defaultTemplate();
const lake = topology.lake;
const keyId = logicalIdOf(t, 'AWS::KMS::Key', () => true);
const lakeBucketId = logicalIdOf(t, 'AWS::S3::Bucket', (r) => JSON.stringify(r.Properties.BucketName ?? '').includes(lake.bucket));

describe('S3 lake bucket', () => {
  const [, bucket] = only(t, 'AWS::S3::Bucket', (r) => JSON.stringify(r.Properties.BucketName ?? '').includes(lake.bucket));
  const p = bucket.Properties;
  test('blocks public access, versioned, SSE-KMS with the CMK, access-logged', () => {
    assert.deepEqual(p.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    assert.equal(p.VersioningConfiguration.Status, 'Enabled');
    const sse = p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault;
    assert.equal(sse.SSEAlgorithm, 'aws:kms');
    assert.deepEqual(sse.KMSMasterKeyID, { 'Fn::GetAtt': [keyId, 'Arn'] });
    assert.ok(p.LoggingConfiguration.DestinationBucketName);
  });
  test('lifecycle: Standard-IA after 30 days, Glacier Instant Retrieval after 90', () => {
    const transitions = p.LifecycleConfiguration.Rules.flatMap((r: any) => r.Transitions ?? []);
    assert.deepEqual(transitions, [
      { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
      { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
    ]);
  });
  test('TLS only on every bucket', () => {
    for (const id of Object.keys(resources(t, 'AWS::S3::Bucket'))) {
      t.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });
});

describe('Firehose delivery stream', () => {
  const [, ds] = only(t, 'AWS::KinesisFirehose::DeliveryStream', () => true);
  const d = ds.Properties.ExtendedS3DestinationConfiguration;
  const transformId = logicalIdOf(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === 'firehose-transform');
  test('reads the Kinesis stream', () => {
    const streamId = logicalIdOf(t, 'AWS::Kinesis::Stream', () => true);
    assert.equal(ds.Properties.DeliveryStreamName, lake.firehose);
    assert.equal(ds.Properties.DeliveryStreamType, 'KinesisStreamAsSource');
    assert.deepEqual(ds.Properties.KinesisStreamSourceConfiguration.KinesisStreamARN, { 'Fn::GetAtt': [streamId, 'Arn'] });
    assert.deepEqual(d.BucketARN, { 'Fn::GetAtt': [lakeBucketId, 'Arn'] });
  });
  test('de-aggregates JSON records, then runs the firehose-transform Lambda', () => {
    const procs = d.ProcessingConfiguration.Processors;
    assert.equal(d.ProcessingConfiguration.Enabled, true);
    const deagg = procs.find((x: any) => x.Type === 'RecordDeAggregation');
    assert.deepEqual(deagg.Parameters, [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }]);
    const fn = procs.find((x: any) => x.Type === 'Lambda');
    assert.deepEqual(fn.Parameters.find((x: any) => x.ParameterName === 'LambdaArn').ParameterValue, { 'Fn::GetAtt': [transformId, 'Arn'] });
    assert.ok(!procs.some((x: any) => x.Type === 'AppendDelimiterToRecord'), 'Parquet output needs no delimiter');
  });
  test('dynamic partitioning by the Lambda partition keys, error prefix from the topology', () => {
    assert.equal(d.DynamicPartitioningConfiguration.Enabled, true);
    assert.equal(d.Prefix, `${lake.prefix}dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/`);
    assert.ok(d.ErrorOutputPrefix.startsWith(lake.error_prefix));
    assert.ok(d.ErrorOutputPrefix.includes('!{firehose:error-output-type}'));
  });
  test('buffering from the topology, at least 64 MiB with dynamic partitioning', () => {
    assert.equal(d.BufferingHints.SizeInMBs, Math.max(lake.buffer_mb, DYNAMIC_PARTITIONING_MIN_BUFFER_MB));
    assert.ok(d.BufferingHints.SizeInMBs >= 64);
    assert.equal(d.BufferingHints.IntervalInSeconds, lake.buffer_s);
  });
  test('converts to snappy Parquet using the Glue table, parsing the ISO-8601 timestamps', () => {
    const c = d.DataFormatConversionConfiguration;
    assert.equal(c.Enabled, true);
    assert.equal(d.CompressionFormat, 'UNCOMPRESSED');
    assert.deepEqual(c.OutputFormatConfiguration, { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } });
    const formats: string[] = c.InputFormatConfiguration.Deserializer.HiveJsonSerDe.TimestampFormats;
    assert.ok(formats.includes("yyyy-MM-dd'T'HH:mm:ss.SSSZZ"), formats.join());
    assert.equal(c.SchemaConfiguration.DatabaseName, lake.glue_database);
    assert.equal(c.SchemaConfiguration.TableName, lake.glue_table);
    assert.equal(c.SchemaConfiguration.VersionId, 'LATEST');
  });
  test('S3 objects encrypted with the CMK; delivery errors logged', () => {
    assert.deepEqual(d.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN, { 'Fn::GetAtt': [keyId, 'Arn'] });
    assert.equal(d.CloudWatchLoggingOptions.Enabled, true);
  });
  test('created after its role policy and the Glue table', () => {
    const policyId = logicalIdOf(t, 'AWS::IAM::Policy', (r) => JSON.stringify(r.Properties.PolicyDocument).includes('ReadGlueSchema'));
    const tableId = logicalIdOf(t, 'AWS::Glue::Table', (r) => r.Properties.TableInput.Name === topology.lake.glue_table);
    assert.ok(ds.DependsOn?.includes(policyId) && ds.DependsOn?.includes(tableId), JSON.stringify(ds.DependsOn));
  });
});

describe('Glue table', () => {
  const [, table] = only(t, 'AWS::Glue::Table', (r) => r.Properties.TableInput.Name === topology.lake.glue_table);
  const ti = table.Properties.TableInput;
  test('columns and partition keys are exactly events/lake-columns.json', () => {
    assert.equal(table.Properties.DatabaseName, lake.glue_database);
    assert.equal(ti.Name, lake.glue_table);
    assert.deepEqual(ti.StorageDescriptor.Columns, columns.columns.map((c) => ({ Name: c.name, Type: c.type })));
    assert.deepEqual(ti.PartitionKeys, columns.partition_keys.map((c) => ({ Name: c.name, Type: c.type })));
  });
  test('Parquet SerDe', () => {
    assert.equal(ti.StorageDescriptor.SerdeInfo.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    assert.match(ti.StorageDescriptor.InputFormat, /MapredParquetInputFormat$/);
  });
  test('partition projection: dt date 2024-01-01..NOW, hour 00..23', () => {
    const p = ti.Parameters;
    assert.equal(p['projection.enabled'], 'true');
    assert.equal(p['projection.dt.type'], 'date');
    assert.equal(p['projection.dt.format'], 'yyyy-MM-dd');
    assert.equal(p['projection.dt.range'], '2024-01-01,NOW');
    assert.equal(p['projection.hour.type'], 'integer');
    assert.equal(p['projection.hour.range'], '0,23');
    assert.equal(p['projection.hour.digits'], '2');
    assert.match(JSON.stringify(p['storage.location.template']), /\/events\/dt=\$\{dt\}\/hour=\$\{hour\}\//);
  });
});

describe('Athena', () => {
  test('workgroup enforces its settings, caps scans, encrypts results', () => {
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: lake.athena_workgroup,
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: lake.athena_bytes_scanned_cutoff,
        ResultConfiguration: {
          OutputLocation: Match.anyValue(),
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        },
      }),
    });
  });
  test('one named query per infra/athena/*.sql file', () => {
    const n = fs.existsSync(DEFAULT_ATHENA_DIR) ? fs.readdirSync(DEFAULT_ATHENA_DIR).filter((f) => f.endsWith('.sql')).length : 0;
    t.resourceCountIs('AWS::Athena::NamedQuery', n);
  });
  test('a folder with two .sql files (and a README) gives exactly two named queries', () => {
    const dir = tempDir('athena-');
    fs.writeFileSync(path.join(dir, 'daily_minutes.sql'), 'SELECT 1');
    fs.writeFileSync(path.join(dir, 'royalty_close.sql'), 'SELECT 2');
    fs.writeFileSync(path.join(dir, 'README.md'), 'not a query');
    const t2 = synth({ athenaDir: dir });
    t2.resourceCountIs('AWS::Athena::NamedQuery', 2);
    t2.hasResourceProperties('AWS::Athena::NamedQuery', {
      Name: 'royalty_close', QueryString: 'SELECT 2', Database: lake.glue_database, WorkGroup: lake.athena_workgroup,
    });
  });
  test('a missing folder gives none', () => {
    synth({ athenaDir: path.join(tempDir('athena-'), 'absent') }).resourceCountIs('AWS::Athena::NamedQuery', 0);
  });
});
