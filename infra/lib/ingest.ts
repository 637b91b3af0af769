// The playback-events Kinesis stream (partition key viewer_id, set by the players)
// and one enhanced fan-out consumer per stream-reading function, so each gets its
// own 2 MB/s per shard instead of sharing the 5 GetRecords/s per shard with Firehose.
import { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DeployParams, storeRemovalPolicy } from './config';
import { Topology } from './topology';

export type ConsumerName = keyof Topology['consumers'];

export interface IngestProps {
  readonly topology: Topology;
  readonly params: DeployParams;
  readonly key: kms.IKey;
}

export class Ingest extends Construct {
  readonly stream: kinesis.Stream;
  readonly consumers: Record<ConsumerName, kinesis.StreamConsumer>;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { topology, params } = props;
    // A shard count given at deploy time means provisioned; otherwise the topology's mode
    // (on-demand scales by itself and needs no shard planning).
    const provisioned = params.shardCount !== undefined || topology.stream.mode === 'PROVISIONED';

    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: topology.stream.name,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? (params.shardCount ?? topology.stream.provisioned_shards) : undefined,
      retentionPeriod: Duration.hours(params.retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.key,
      removalPolicy: storeRemovalPolicy(params),
    });

    const consumer = (name: ConsumerName) => new kinesis.StreamConsumer(this, `Consumer-${name}`, {
      streamConsumerName: topology.consumers[name].efo_consumer,
      stream: this.stream,
    });
    this.consumers = { 'qoe-alerts': consumer('qoe-alerts'), 'session-features': consumer('session-features') };
  }
}
