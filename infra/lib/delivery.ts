// Firehose: Kinesis stream -> de-aggregation -> firehose-transform Lambda ->
// Parquet (snappy) via the Glue table -> S3, dynamically partitioned by the
// dt/hour keys the Lambda returns in metadata.partitionKeys.
//
// How the pieces combine (Firehose developer guide, "dynamic partitioning of
// aggregated data" and "record format conversion"):
// - Records are processed in the order de-aggregation -> Lambda transform ->
//   partitioning keys, so the RecordDeAggregation processor (SubRecordType JSON,
//   which accepts newline-delimited JSON) splits a Kinesis record that packs several
//   events before the Lambda sees them, and the Lambda receives one event per record.
// - De-aggregation is only available with dynamic partitioning enabled, and dynamic
//   partitioning needs an error output prefix and a buffer of at least 64 MiB.
// - Format conversion deserializes the Lambda's JSON output with the Hive JSON SerDe
//   against the Glue table's columns; the transform writes event_time/ingest_time as
//   "2026-11-23T10:00:00.000Z", so the timestamp formats below name that pattern
//   (ZZ parses the trailing Z as UTC offset +00:00).
// - With format conversion the S3 compression must stay UNCOMPRESSED; snappy is set
//   on the Parquet serializer instead, and no newline delimiter is appended.
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeployParams, DYNAMIC_PARTITIONING_MIN_BUFFER_MB, EXTRA_FUNCTIONS, storeRemovalPolicy } from './config';
import { Lake } from './lake';
import { retentionDays } from './rust-function';
import { Topology } from './topology';

export const EVENT_TIMESTAMP_FORMATS = ["yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "yyyy-MM-dd'T'HH:mm:ssZZ", 'millis'];

export interface DeliveryProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly key: kms.IKey;
  readonly stream: kinesis.IStream;
  readonly lake: Lake;
  readonly transform: lambda.IFunction;
}

export function lakePrefixes(lake: Topology['lake']) {
  return {
    prefix: `${lake.prefix}dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/`,
    errorOutputPrefix: `${lake.error_prefix}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`,
  };
}

export class Delivery extends Construct {
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const { topology, key, lake } = props;
    const t = topology.lake;
    const cfg = EXTRA_FUNCTIONS['firehose-transform'];

    // Fixed names, so a retained group would block the next deploy: follow retainData.
    const removalPolicy = storeRemovalPolicy(props.params);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/kinesisfirehose/${t.firehose}`,
      retention: retentionDays(props.params.logRetentionDays),
      encryptionKey: key,
      removalPolicy,
    });
    const logStream = new logs.LogStream(this, 'S3DeliveryLogs', { logGroup, logStreamName: 'S3Delivery', removalPolicy });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } },
      }),
      description: `Firehose ${t.firehose}: read the stream, invoke the transform, read the Glue schema, write the lake`,
    });
    const policy = new iam.Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadSourceStream',
          actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
          resources: [props.stream.streamArn],
        }),
        new iam.PolicyStatement({
          sid: 'InvokeTransform',
          actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
          resources: [props.transform.functionArn, `${props.transform.functionArn}:*`],
        }),
        new iam.PolicyStatement({
          sid: 'ReadGlueSchema',
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [lake.catalogArn, lake.databaseArn, lake.tableArn],
        }),
        new iam.PolicyStatement({
          sid: 'LakeBucket',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [lake.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'LakeObjects',
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resources: [lake.bucket.arnForObjects(`${t.prefix}*`), lake.bucket.arnForObjects(`${t.error_prefix}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'DataKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [key.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'DeliveryLogs',
          actions: ['logs:PutLogEvents'],
          resources: [Stack.of(this).formatArn({
            service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
          })],
        }),
      ],
    });

    const { prefix, errorOutputPrefix } = lakePrefixes(t);
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: t.firehose,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: props.stream.streamArn, roleArn: this.role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: lake.bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix,
        errorOutputPrefix,
        bufferingHints: {
          sizeInMBs: Math.max(t.buffer_mb, DYNAMIC_PARTITIONING_MIN_BUFFER_MB),
          intervalInSeconds: t.buffer_s,
        },
        compressionFormat: 'UNCOMPRESSED',
        // Objects are SSE-KMS with the CMK. (Firehose's own at-rest SSE setting exists only for
        // DirectPut streams; with a Kinesis source the data stays encrypted in the CMK stream.)
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: key.keyArn } },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            { type: 'RecordDeAggregation', parameters: [{ parameterName: 'SubRecordType', parameterValue: 'JSON' }] },
            {
              type: 'Lambda',
              parameters: [
                { parameterName: 'LambdaArn', parameterValue: props.transform.functionArn },
                { parameterName: 'NumberOfRetries', parameterValue: String(cfg.retries) },
                { parameterName: 'BufferSizeInMBs', parameterValue: String(cfg.bufferMb) },
                { parameterName: 'BufferIntervalInSeconds', parameterValue: String(cfg.bufferIntervalS) },
              ],
            },
          ],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: EVENT_TIMESTAMP_FORMATS } } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
          schemaConfiguration: {
            catalogId: Aws.ACCOUNT_ID,
            databaseName: t.glue_database,
            tableName: t.glue_table,
            region: Aws.REGION,
            roleArn: this.role.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    // The role's policy must exist before Firehose validates the source and destination.
    this.deliveryStream.node.addDependency(policy);
    this.deliveryStream.node.addDependency(lake.table);
  }
}
