// The whole pipeline in one stack: ingest (Kinesis + EFO consumers), state
// (DynamoDB, SQS, SNS), the Rust functions, the lake (S3, Glue, Athena, Firehose)
// and monitoring. Values come from pipeline.json and lake-columns.json.
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CodeSource, DEFAULT_LAMBDA_TARGET_DIR, MissingLambdaCodeError, missingZips } from './code';
import { Collector } from './collector';
import { lambdaFunctionNames, readParams, storeRemovalPolicy } from './config';
import { Delivery } from './delivery';
import { Functions } from './functions';
import { Ingest } from './ingest';
import { Lake } from './lake';
import { LongHorizon } from './long-horizon';
import { TrainingBuild } from './training-build';
import { Monitoring } from './monitoring';
import { DataKey } from './security';
import { State } from './state';
import {
  DEFAULT_ATHENA_DIR, DEFAULT_COLUMNS_FILE, DEFAULT_TOPOLOGY_FILE,
  loadLakeColumns, loadNamedQueries, loadTopology,
} from './topology';

export interface PlaybackStackProps extends StackProps {
  readonly topologyFile?: string;
  readonly columnsFile?: string;
  /** Folder whose *.sql files become Athena named queries. */
  readonly athenaDir?: string;
  /** Where `cargo lambda build` puts <function>/bootstrap.zip. */
  readonly lambdaTargetDir?: string;
}

export class PlaybackStack extends Stack {
  readonly ingest: Ingest;
  readonly state: State;
  readonly lake: Lake;
  readonly functions: Functions;
  readonly longHorizon: LongHorizon;
  readonly trainingBuild: TrainingBuild;
  readonly delivery: Delivery;
  readonly collector: Collector;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PlaybackStackProps = {}) {
    super(scope, id, props);
    // Access logs are delivered under a bucket policy, not the legacy LogDeliveryWrite ACL.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const topology = loadTopology(props.topologyFile ?? DEFAULT_TOPOLOGY_FILE);
    const columns = loadLakeColumns(props.columnsFile ?? DEFAULT_COLUMNS_FILE);
    const namedQueries = loadNamedQueries(props.athenaDir ?? DEFAULT_ATHENA_DIR);
    const params = readParams(this.node, topology);
    const code: CodeSource = { targetDir: props.lambdaTargetDir ?? DEFAULT_LAMBDA_TARGET_DIR, allowPlaceholder: params.placeholderCode };
    if (!code.allowPlaceholder) {
      const missing = missingZips(lambdaFunctionNames(params), code.targetDir);
      if (missing.length > 0) throw new MissingLambdaCodeError(missing);
    }

    const key = new DataKey(this, 'DataKey', { removalPolicy: storeRemovalPolicy(params) }).key;
    this.ingest = new Ingest(this, 'Ingest', { topology, params, key });
    this.state = new State(this, 'State', { topology, params, key });
    this.lake = new Lake(this, 'Lake', { topology, columns, namedQueries, params, key });
    this.functions = new Functions(this, 'Functions', {
      topology, params, code, key, ingest: this.ingest, state: this.state, lake: this.lake,
    });
    this.longHorizon = new LongHorizon(this, 'LongHorizon', {
      topology, params, code, key, state: this.state, lake: this.lake,
    });
    this.trainingBuild = new TrainingBuild(this, 'TrainingBuild', {
      topology, params, code, key, lake: this.lake, featuresTableName: this.state.tables.features.tableName,
    });
    this.delivery = new Delivery(this, 'Delivery', {
      topology, params, key, stream: this.ingest.stream, lake: this.lake,
      transform: this.functions.all['firehose-transform'].fn,
    });
    this.collector = new Collector(this, 'Collector', {
      params, code, key, stream: this.ingest.stream, sreQueue: this.state.qualityQueue,
      poisonDlq: this.state.poisonDlq, accessLogs: this.lake.accessLogs,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      topology, params, key,
      functions: {
        ...this.functions.all, 'long-horizon-features': this.longHorizon.fn, 'training-examples': this.trainingBuild.fn,
        ...(this.collector.fn ? { collector: this.collector.fn } : {}),
      },
      stream: this.ingest.stream,
      dlqs: { [topology.poison_dlq]: this.state.poisonDlq, [topology.sre_buffer.dlq]: this.state.qualityDlq },
      deliveryStream: this.delivery.deliveryStream,
    });

    this.longHorizon.addAlarms(this.monitoring.alarm, this.state.tables.features);
    this.trainingBuild.addAlarms(this.monitoring.alarm);
    this.collector.addAlarms(this.monitoring.alarm);

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('StreamName', this.ingest.stream.streamName, 'Kinesis stream the players write to (partition key viewer_id)');
    out('StreamArn', this.ingest.stream.streamArn, 'Kinesis stream ARN');
    for (const [name, table] of Object.entries(this.state.tables)) {
      out(`Table${name[0].toUpperCase()}${name.slice(1)}`, table.tableName, `DynamoDB ${name} table`);
    }
    out('PlaybackQualityQueueUrl', this.state.qualityQueue.queueUrl, 'SQS queue consumed by sre-buffer');
    out('PlaybackQualityDlqUrl', this.state.qualityDlq.queueUrl, 'Redrive DLQ of the playback-quality queue');
    out('PoisonPillDlqUrl', this.state.poisonDlq.queueUrl, 'Poison-pill DLQ of every consumer');
    out('AlertsTopicArn', this.state.alertsTopic.topicArn, 'SNS topic QoE alerts are published to');
    out('OpsTopicArn', this.monitoring.opsTopic.topicArn, 'SNS topic the alarms notify');
    out('LakeBucketName', this.lake.bucket.bucketName, 'S3 lake bucket');
    out('AthenaResultsBucketName', this.lake.resultsBucket.bucketName, 'Athena query results bucket');
    out('DeliveryStreamName', this.delivery.deliveryStream.ref, 'Firehose delivery stream into the lake');
    out('GlueDatabase', topology.lake.glue_database, 'Glue database of the lake');
    out('AthenaWorkgroup', this.lake.workgroup.ref, 'Athena workgroup');
    out('LongHorizonStateMachineArn', this.longHorizon.stateMachine.stateMachineArn, 'Daily long-horizon feature run (Step Functions)');
    out('TrainingBuildStateMachineArn', this.trainingBuild.stateMachine.stateMachineArn, 'Daily training-examples build (Step Functions)');
    out('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}
