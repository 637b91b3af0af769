// The data lake: the S3 lake bucket (Parquet written by Firehose, royalty reports),
// its access-log bucket, the Glue database/table Firehose converts against and
// Athena queries, and the Athena workgroup with its results bucket and named queries.
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeployParams, storeRemovalPolicy } from './config';
import { skipCheckov } from './suppress';
import { LakeColumns, NamedQueryFile, Topology } from './topology';

export interface LakeProps {
  readonly topology: Topology;
  readonly columns: LakeColumns;
  readonly namedQueries: NamedQueryFile[];
  readonly params: DeployParams;
  readonly key: kms.IKey;
}

const PARQUET = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
};

/** Partition projection: dt is a day (yyyy-MM-dd) from 2024-01-01 up to today, hour is 00..23. */
export const PROJECTION_START_DAY = '2024-01-01';

/** The catalogue table's name and columns (crates/lake titles_schema; release_day a date). */
export const TITLES_TABLE = 'titles';
export const TITLE_COLUMNS: readonly (readonly [string, string])[] = [
  ['title_id', 'string'], ['genre', 'string'], ['kind', 'string'], ['duration_ms', 'bigint'], ['release_day', 'date'],
];

export class Lake extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  /** The title catalogue table (`playback.titles`, under lake.catalogue_prefix). */
  readonly titlesTable: glue.CfnTable;
  readonly workgroup: athena.CfnWorkGroup;
  readonly namedQueries: athena.CfnNamedQuery[];
  readonly catalogArn: string;
  readonly databaseArn: string;
  readonly tableArn: string;
  readonly workgroupArn: string;

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    const { topology, params, key } = props;
    const lake = topology.lake;
    const stack = Stack.of(this);
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: storeRemovalPolicy(params),
      // CloudFormation deletes only empty buckets; these are versioned and written to, so a
      // deletable bucket is emptied (every version) by CDK's auto-delete custom resource.
      autoDeleteObjects: !params.retainData,
    };

    // S3 server access logs only support SSE-S3 on the target bucket.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(7) }],
    });
    skipCheckov(this.accessLogs,
      { id: 'CKV_AWS_18', comment: 'This is the access-log bucket itself; logging it into itself would loop.' });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...common,
      // Bucket names are global: the topology name plus account and region.
      bucketName: `${lake.bucket}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'tiering',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    this.resultsBucket = new s3.Bucket(this, 'AthenaResults', {
      ...common,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ id: 'expire-results', expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    // Glue catalog: database and the raw events table (columns from events/lake-columns.json).
    this.catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    this.databaseArn = stack.formatArn({ service: 'glue', resource: 'database', resourceName: lake.glue_database });
    this.tableArn = stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.glue_database}/${lake.glue_table}` });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: lake.glue_database, description: 'Playback telemetry lake' },
    });
    const location = `s3://${this.bucket.bucketName}/${lake.prefix}`;
    const [dtKey, hourKey] = props.columns.partition_keys.map((k) => k.name);
    if (dtKey !== 'dt' || hourKey !== 'hour' || props.columns.partition_keys.length !== 2) {
      throw new Error('lake-columns.json: partition_keys must be [dt, hour] (Firehose prefix and projection use them)');
    }
    this.table = new glue.CfnTable(this, 'EventsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: lake.glue_database,
      tableInput: {
        name: lake.glue_table,
        description: 'Raw playback events (Parquet, snappy) written by Firehose',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: props.columns.partition_keys.map((c) => ({ name: c.name, type: c.type })),
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${PROJECTION_START_DAY},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
        },
        storageDescriptor: {
          location,
          columns: props.columns.columns.map((c) => ({ name: c.name, type: c.type })),
          inputFormat: PARQUET.input,
          outputFormat: PARQUET.output,
          compressed: true,
          serdeInfo: { serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
        },
      },
    });
    this.table.node.addDependency(this.database);

    // The title catalogue (one small Parquet file, from the content system;
    // the demo uploads the load generator's): the dimension the features join on.
    this.titlesTable = new glue.CfnTable(this, 'TitlesTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: lake.glue_database,
      tableInput: {
        name: TITLES_TABLE,
        description: 'Title catalogue: genre, kind, duration, release day (Parquet)',
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: 'parquet', 'parquet.compression': 'SNAPPY' },
        storageDescriptor: {
          location: `s3://${this.bucket.bucketName}/${lake.catalogue_prefix}`,
          columns: TITLE_COLUMNS.map(([name, type]) => ({ name, type })),
          inputFormat: PARQUET.input,
          outputFormat: PARQUET.output,
          compressed: true,
          serdeInfo: { serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
        },
      },
    });
    this.titlesTable.node.addDependency(this.database);

    // Athena workgroup: results encrypted with the CMK, settings enforced, scans capped.
    this.workgroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.athena_workgroup });
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: lake.athena_workgroup,
      description: 'Playback lake queries (royalty close, ad hoc)',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: lake.athena_bytes_scanned_cutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn },
        },
      },
    });

    // One named query per infra/athena/*.sql file (none while the folder is empty).
    this.namedQueries = props.namedQueries.map((q) => {
      const nq = new athena.CfnNamedQuery(this, `Query-${q.name}`, {
        name: q.name,
        description: `infra/athena/${q.name}.sql`,
        database: lake.glue_database,
        workGroup: lake.athena_workgroup,
        queryString: q.sql,
      });
      nq.node.addDependency(this.workgroup);
      nq.node.addDependency(this.database);
      return nq;
    });
  }
}
