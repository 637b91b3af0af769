// Ingest, state and functions: what the synthesized template must show.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES } from '../lib/config';
import { defaultTemplate, logicalIdOf, only, resources, topology } from './helpers';

const t = defaultTemplate();
const keyId = logicalIdOf(t, 'AWS::KMS::Key', () => true);
const fnId = (name: string) => logicalIdOf(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === name);
const queueId = (name: string) => logicalIdOf(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === name);
const consumerId = (name: string) => logicalIdOf(t, 'AWS::Kinesis::StreamConsumer', (r) => r.Properties.ConsumerName === name);

describe('resource counts', () => {
  const expected: Record<string, number> = {
    'AWS::Kinesis::Stream': 1,
    'AWS::Kinesis::StreamConsumer': 2,
    // One per code name, plus training-examples (the long-horizon code, sized for a slice).
    'AWS::Lambda::Function': 9,
    'AWS::Lambda::EventSourceMapping': 3,
    // The collector's front door on the default host (lambda, function URL).
    'AWS::Lambda::Url': 1,
    'AWS::ApiGatewayV2::Api': 0,
    'AWS::ECS::Service': 0,
    // The topology's four and the collector's app keys.
    'AWS::DynamoDB::Table': 5,
    'AWS::SQS::Queue': 3,
    'AWS::SNS::Topic': 2,
    'AWS::S3::Bucket': 3,
    'AWS::KMS::Key': 1,
    'AWS::KinesisFirehose::DeliveryStream': 1,
    'AWS::Glue::Database': 1,
    // The raw events, titles (lib/lake.ts); long_horizon_features, training_examples (lib/long-horizon.ts).
    'AWS::Glue::Table': 4,
    'AWS::Athena::WorkGroup': 1,
    'AWS::Events::Rule': 6,
    // The long-horizon run and the training build.
    'AWS::StepFunctions::StateMachine': 2,
    'AWS::CloudWatch::Dashboard': 1,
  };
  for (const [type, n] of Object.entries(expected)) {
    test(`${n} x ${type}`, () => t.resourceCountIs(type, n));
  }
  test('no custom-resource Lambdas or log-retention helpers sneak in', () => {
    const types = Object.values(t.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    assert.ok(!types.some((ty) => ty.startsWith('Custom::') || ty === 'AWS::CloudFormation::CustomResource'));
  });
});

describe('Kinesis stream', () => {
  test('on-demand, CMK-encrypted, retention and name from the topology', () => {
    t.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: topology.stream.name,
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: topology.stream.retention_hours,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      ShardCount: Match.absent(),
    });
  });
  test('the CMK rotates', () => t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true }));
  test('two enhanced fan-out consumers named from the topology', () => {
    const streamId = logicalIdOf(t, 'AWS::Kinesis::Stream', () => true);
    for (const c of Object.values(topology.consumers)) {
      t.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
        ConsumerName: c.efo_consumer,
        StreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] },
      });
    }
  });
});

describe('stream event-source mappings', () => {
  const poisonArn = { 'Fn::GetAtt': [queueId(topology.poison_dlq), 'Arn'] };
  for (const name of ['qoe-alerts', 'session-features'] as const) {
    const c = topology.consumers[name];
    test(`${name}: on its EFO consumer with retries, bisect, partial failures and the poison-pill DLQ`, () => {
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnId(name) },
        EventSourceArn: { 'Fn::GetAtt': [consumerId(c.efo_consumer), 'ConsumerARN'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: c.bisect_on_error,
        MaximumRetryAttempts: c.max_retry_attempts,
        MaximumRecordAgeInSeconds: c.max_record_age_s,
        BatchSize: c.batch_size,
        MaximumBatchingWindowInSeconds: c.batching_window_s,
        ParallelizationFactor: c.parallelization_factor,
        StartingPosition: 'LATEST',
        DestinationConfig: { OnFailure: { Destination: poisonArn } },
        TumblingWindowInSeconds: c.tumbling_window_s ?? Match.absent(),
      });
    });
  }
  test('qoe-alerts uses tumbling windows from the topology', () => {
    const [, esm] = only(t, 'AWS::Lambda::EventSourceMapping', (r) => r.Properties.FunctionName.Ref === fnId('qoe-alerts'));
    assert.equal(esm.Properties.TumblingWindowInSeconds, topology.consumers['qoe-alerts'].tumbling_window_s);
  });
  test('retries and record age are bounded', () => {
    for (const [, esm] of Object.entries(resources(t, 'AWS::Lambda::EventSourceMapping'))) {
      if (esm.Properties.StartingPosition === undefined) continue; // SQS
      assert.ok(esm.Properties.MaximumRetryAttempts >= 0 && esm.Properties.MaximumRetryAttempts <= 100);
      assert.ok(esm.Properties.MaximumRecordAgeInSeconds > 0);
    }
  });
  test('sre-buffer: SQS mapping with partial failures, batching window and max concurrency', () => {
    const s = topology.sre_buffer;
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('sre-buffer') },
      EventSourceArn: { 'Fn::GetAtt': [queueId(s.queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: s.batch_size,
      MaximumBatchingWindowInSeconds: s.batching_window_s,
      ScalingConfig: { MaximumConcurrency: s.max_concurrency },
    });
  });
});

describe('Lambda functions', () => {
  const env: Record<string, string[]> = {
    'qoe-alerts': ['WINDOWS_TABLE', 'ALERTS_TABLE', 'ALERTS_TOPIC_ARN', 'POISON_DLQ_URL', 'QOE_BASELINE_RATIO', 'QOE_ALERT_MARGIN', 'QOE_MIN_SESSIONS', 'QOE_MIN_SAMPLE_MS'],
    'session-features': ['FEATURES_TABLE', 'POISON_DLQ_URL', 'FEATURES_TTL_DAYS'],
    'sre-buffer': ['SRE_TABLE', 'POISON_DLQ_URL', 'ALERTS_TOPIC_ARN', 'SRE_RULE'],
    'firehose-transform': [],
    'royalty-close': ['LAKE_BUCKET', 'LAKE_PREFIX', 'REPORTS_PREFIX', 'GLUE_DATABASE', 'CANONICAL_TABLE', 'LEDGER_TABLE', 'ATHENA_WORKGROUP', 'LEDGER_PREFIX'],
    'canonical-merge': ['LAKE_BUCKET', 'CANONICAL_PREFIX', 'HOT_PREFIX', 'GLUE_DATABASE', 'ATHENA_WORKGROUP', 'SETTLE_S', 'LOOKBACK_DAYS', 'OPTIMIZE_DAYS', 'RETENTION_DAYS'],
    collector: ['STREAM_NAME', 'SRE_QUEUE_URL', 'POISON_DLQ_URL', 'KEYS_TABLE'],
    'long-horizon-features': ['LAKE_BUCKET', 'GLUE_DATABASE', 'ATHENA_WORKGROUP', 'FEATURES_TABLE', 'FEATURES_TTL_DAYS', 'WRITES_PER_S', 'CONCURRENCY', 'SLICE_FILES'],
  };
  const sizes: Record<string, [number, number] | undefined> = {
    'qoe-alerts': [topology.consumers['qoe-alerts'].memory_mb, topology.consumers['qoe-alerts'].timeout_s],
    'session-features': [topology.consumers['session-features'].memory_mb, topology.consumers['session-features'].timeout_s],
    'sre-buffer': [topology.sre_buffer.memory_mb, topology.sre_buffer.timeout_s],
  };
  for (const name of FUNCTION_NAMES) {
    test(`${name}: provided.al2023 arm64 bootstrap, JSON logs, exact environment`, () => {
      const [, fn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === name);
      const p = fn.Properties;
      assert.equal(p.Runtime, 'provided.al2023');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.equal(p.Handler, 'bootstrap');
      assert.equal(p.LoggingConfig.LogFormat, 'JSON');
      assert.deepEqual(p.KmsKeyArn, { 'Fn::GetAtt': [keyId, 'Arn'] });
      assert.deepEqual(Object.keys(p.Environment.Variables).sort(), ['RUST_LOG', ...env[name]].sort());
      assert.equal(p.Environment.Variables.RUST_LOG, 'info');
      const size = sizes[name];
      if (size) assert.deepEqual([p.MemorySize, p.Timeout], size);
    });
  }
  test('values come from the topology', () => {
    const [, qoe] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === 'qoe-alerts');
    const v = qoe.Properties.Environment.Variables;
    assert.equal(v.QOE_BASELINE_RATIO, String(topology.alerts.baseline_ratio));
    assert.equal(v.QOE_ALERT_MARGIN, String(topology.alerts.margin));
    assert.equal(v.QOE_MIN_SESSIONS, String(topology.alerts.min_sessions));
    assert.equal(v.QOE_MIN_SAMPLE_MS, String(topology.alerts.min_sample_ms));
    const [, sre] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === 'sre-buffer');
    assert.deepEqual(JSON.parse(sre.Properties.Environment.Variables.SRE_RULE), topology.sre);
    const [, rc] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === 'royalty-close');
    assert.equal(rc.Properties.Environment.Variables.LEDGER_PREFIX, `${topology.lake.reports_prefix}ledger/`);
    assert.equal(rc.Properties.Environment.Variables.REPORTS_PREFIX, topology.lake.reports_prefix);
  });
  test('royalty-close runs one at a time, daily at 02:00 UTC', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'royalty-close', ReservedConcurrentExecutions: 1 });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId('royalty-close'), 'Arn'] } })]),
    });
  });
  test('each function logs to its own CMK-encrypted log group with a retention', () => {
    for (const name of FUNCTION_NAMES) {
      t.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/${name}`,
        RetentionInDays: Match.anyValue(),
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
    }
  });
});

describe('DynamoDB tables', () => {
  for (const [name, tt] of Object.entries(topology.tables)) {
    test(`${name}: keys, on-demand, TTL, PITR, CMK`, () => {
      const keySchema = [{ AttributeName: tt.pk, KeyType: 'HASH' }];
      if (tt.sk) keySchema.push({ AttributeName: tt.sk, KeyType: 'RANGE' });
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: tt.name,
        KeySchema: keySchema,
        AttributeDefinitions: Match.arrayWith(tt.sk ? [{ AttributeName: tt.sk, AttributeType: tt.sk_type ?? 'S' }] : []),
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: tt.ttl, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
    });
  }
});

describe('SQS and SNS', () => {
  const s = topology.sre_buffer;
  test('playback-quality redrives to its DLQ after maxReceiveCount', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: s.queue,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId(s.dlq), 'Arn'] }, maxReceiveCount: s.max_receive_count },
    });
  });
  test('playback-quality: maxReceiveCount at least 5, as the Lambda guide recommends for SQS sources', () => {
    // Each throttled or failed batch costs a receive; fewer than 5 dead-letters healthy messages.
    const [, q] = only(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === s.queue);
    assert.ok(q.Properties.RedrivePolicy.maxReceiveCount >= 5, `maxReceiveCount ${q.Properties.RedrivePolicy.maxReceiveCount}`);
  });
  test('visibility timeout is at least 6x the sre-buffer timeout', () => {
    const [, q] = only(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === s.queue);
    assert.ok(q.Properties.VisibilityTimeout >= 6 * s.timeout_s, `${q.Properties.VisibilityTimeout}`);
  });
  test('both DLQs keep messages 14 days', () => {
    for (const name of [topology.poison_dlq, s.dlq]) {
      t.hasResourceProperties('AWS::SQS::Queue', { QueueName: name, MessageRetentionPeriod: 14 * 24 * 3600 });
    }
  });
  test('every queue is CMK-encrypted and TLS-only', () => {
    for (const [id, q] of Object.entries(resources(t, 'AWS::SQS::Queue'))) {
      assert.deepEqual(q.Properties.KmsMasterKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] }, id);
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });
  test('both topics are CMK-encrypted; alerts topic named from the topology', () => {
    for (const [id, topic] of Object.entries(resources(t, 'AWS::SNS::Topic'))) {
      assert.deepEqual(topic.Properties.KmsMasterKeyId, { 'Fn::GetAtt': [keyId, 'Arn'] }, id);
    }
    t.hasResourceProperties('AWS::SNS::Topic', { TopicName: topology.alerts.topic });
  });
});

describe('outputs', () => {
  test('stream, tables, queues and bucket are exported', () => {
    const outputs = Object.keys(t.toJSON().Outputs);
    for (const o of ['StreamName', 'StreamArn', 'TableFeatures', 'TableWindows', 'TableAlerts', 'TableSre',
      'PlaybackQualityQueueUrl', 'PlaybackQualityDlqUrl', 'PoisonPillDlqUrl', 'LakeBucketName']) {
      assert.ok(outputs.includes(o), `missing output ${o}`);
    }
  });
});
