// One customer managed KMS key for the playback data at rest.
//
// Why a CMK rather than the AWS managed keys (aws/kinesis, aws/dynamodb, ...):
// the events carry viewer ids (personal data); a CMK gives one key policy that
// decides who can ever decrypt the stream, tables, queues, topics, lake and logs,
// CloudTrail records every use, rotation is ours to enforce, and the key can be
// disabled to crypto-shred the whole pipeline. The cost is $1/month plus requests
// (Kinesis and DynamoDB cache data keys, SQS reuses them for `dataKeyReuse`),
// and every role needs an explicit kms grant, which the constructs add.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DataKeyProps {
  readonly removalPolicy: RemovalPolicy;
}

export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    const { region, account, partition } = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: 'Playback telemetry: stream, tables, queues, topics, lake, logs',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy,
    });

    // CloudWatch Logs encrypts the functions' and Firehose's log groups with it,
    // limited to log groups of this account and region.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsUse',
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'], // in a key policy "*" means this key
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` },
      },
    }));

    // CloudWatch alarms' use of the key is granted next to the alarms (monitoring.ts).
  }
}
