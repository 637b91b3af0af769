// Operational state: the four DynamoDB tables, the SQS queues (playback-quality
// with its redrive DLQ, and the poison-pill DLQ every consumer sends bad records
// to) and the SNS topic QoE alerts go out on.
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeployParams, storeRemovalPolicy } from './config';
import { TableTopology, Topology } from './topology';

export type TableName = keyof Topology['tables'];

export interface StateProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly key: kms.IKey;
}

const attrType = (t: 'S' | 'N' | undefined) =>
  t === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING;

/**
 * AWS recommends a source-queue visibility timeout of at least six times the
 * function timeout (plus the batching window) for SQS event-source mappings, so a
 * message is not redelivered while a retried invocation still holds it.
 */
export function sqsVisibilityTimeoutS(t: Topology['sre_buffer']): number {
  return Math.max(t.visibility_timeout_s, 6 * t.timeout_s + t.batching_window_s);
}

export class State extends Construct {
  readonly tables: Record<TableName, dynamodb.Table>;
  readonly poisonDlq: sqs.Queue;
  readonly qualityQueue: sqs.Queue;
  readonly qualityDlq: sqs.Queue;
  readonly alertsTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: StateProps) {
    super(scope, id);
    const { topology, params, key } = props;
    const removalPolicy = storeRemovalPolicy(params);

    const table = (name: TableName, t: TableTopology) => new dynamodb.Table(this, `Table-${name}`, {
      tableName: t.name,
      partitionKey: { name: t.pk, type: attrType(t.pk_type) },
      sortKey: t.sk ? { name: t.sk, type: attrType(t.sk_type) } : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: t.ttl,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      deletionProtection: params.retainData,
      removalPolicy,
    });
    const names = Object.keys(topology.tables) as TableName[];
    this.tables = Object.fromEntries(names.map((n) => [n, table(n, topology.tables[n])])) as Record<TableName, dynamodb.Table>;

    const encrypted = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      dataKeyReuse: Duration.minutes(15),
      enforceSSL: true,
      removalPolicy,
    };
    this.poisonDlq = new sqs.Queue(this, 'PoisonPillDlq', {
      queueName: topology.poison_dlq,
      retentionPeriod: Duration.days(14),
      ...encrypted,
    });
    const q = topology.sre_buffer;
    this.qualityDlq = new sqs.Queue(this, 'QualityDlq', {
      queueName: q.dlq,
      retentionPeriod: Duration.days(14),
      ...encrypted,
    });
    this.qualityQueue = new sqs.Queue(this, 'QualityQueue', {
      queueName: q.queue,
      visibilityTimeout: Duration.seconds(sqsVisibilityTimeoutS(q)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.qualityDlq, maxReceiveCount: q.max_receive_count },
      ...encrypted,
    });

    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      topicName: topology.alerts.topic,
      displayName: 'Playback QoE alerts',
      masterKey: key,
      enforceSSL: true,
    });
  }
}
