// The ingest edge (lib/collector.ts) on each host: what it may touch (PutRecords
// on the stream only), its front door (function URL auth and CORS, HTTP API stage,
// ALB with access logs), its alarms on the ops topic, and the names it shares with
// the Rust code and the Dockerfile.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import {
  ALB_LOG_PREFIX, COLLECTOR_FUNCTION, CORS_HEADERS, FARGATE, HEALTH_PATH, HTTP_API_THROTTLE, KEYS_TABLE, SERVER_PORT,
  STREAM_WRITE_FAILURES_METRIC,
} from '../lib/collector';
import { EXTRA_FUNCTIONS, FUNCTION_NAMES } from '../lib/config';
import { REPO_DIR } from '../lib/topology';
import { defaultTemplate, logicalIdOf, only, Resource, resources, synth, tempDir, topology } from './helpers';

const COLLECTOR_DIR = path.join(REPO_DIR, 'functions', 'collector');
const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

function ids(t: Template) {
  return {
    stream: logicalIdOf(t, 'AWS::Kinesis::Stream', () => true),
    keys: logicalIdOf(t, 'AWS::DynamoDB::Table', (r) => r.Properties.TableName === KEYS_TABLE.name),
    quality: logicalIdOf(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === topology.sre_buffer.queue),
    poison: logicalIdOf(t, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === topology.poison_dlq),
    key: logicalIdOf(t, 'AWS::KMS::Key', () => true),
    ops: logicalIdOf(t, 'AWS::SNS::Topic', (r) => r.Properties.TopicName === 'playback-ops-alarms'),
  };
}

function statementsOf(t: Template, roleId: string): Statement[] {
  return Object.values(resources(t, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles ?? []).some((x: any) => x.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every AWS API the role may call outside its logs and the CMK, with the resources. */
function grants(t: Template, roleId: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const s of statementsOf(t, roleId)) {
    assert.equal(s.Effect, 'Allow');
    for (const a of list(s.Action)) {
      if (a.startsWith('logs:') || a.startsWith('kms:')) continue;
      (out[a] ??= []).push(...list(s.Resource));
    }
  }
  return out;
}

function assertLeastPrivilege(t: Template, roleId: string): void {
  const id = ids(t);
  const arn = (x: string) => ({ 'Fn::GetAtt': [x, 'Arn'] });
  assert.deepEqual(grants(t, roleId), {
    'kinesis:PutRecords': [arn(id.stream)],
    'sqs:SendMessage': [arn(id.quality), arn(id.poison)],
    'dynamodb:GetItem': [arn(id.keys)],
    'dynamodb:Query': [arn(id.keys)],
  });
  const kms = statementsOf(t, roleId).filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
  for (const s of kms) assert.deepEqual(list(s.Resource), [arn(id.key)]);
}

function alarmsOf(t: Template) {
  return Object.values(resources(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
}

function assertAlarms(t: Template, names: string[]): void {
  const ops = ids(t).ops;
  const alarms = alarmsOf(t);
  for (const n of names) {
    const a = alarms.find((x) => x.AlarmName === `playback-collector-${n}`);
    assert.ok(a, `no alarm playback-collector-${n}`);
    assert.deepEqual(a.AlarmActions, [{ Ref: ops }], n);
    assert.deepEqual(a.OKActions, [{ Ref: ops }], n);
  }
  // The Metrics Insights query names the metric the collector emits, with its dimensions.
  const w = alarms.find((x) => x.AlarmName === 'playback-collector-stream-write-failures');
  const q = w.Metrics[0].Expression as string;
  assert.match(q, new RegExp(`SUM\\(${STREAM_WRITE_FAILURES_METRIC}\\) FROM SCHEMA\\("Playback", App, Function\\) WHERE Function = '${COLLECTOR_FUNCTION}'`));
  assert.equal(w.Metrics[0].Period, 60);
}

describe('collector: names shared with the Rust code and the Dockerfile', () => {
  const rs = (f: string) => fs.readFileSync(path.join(COLLECTOR_DIR, 'src', f), 'utf8');
  test('the keys table\'s item keys are dynamo_keys.rs PK and SK', () => {
    const src = rs('dynamo_keys.rs');
    assert.match(src, new RegExp(`pub const PK: &str = "${KEYS_TABLE.pk}";`));
    assert.match(src, new RegExp(`pub const SK: &str = "${KEYS_TABLE.sk}";`));
  });
  test('the alarmed EMF metric and its dimensions are what lib.rs emits', () => {
    const src = rs('lib.rs');
    assert.ok(src.includes(`("${STREAM_WRITE_FAILURES_METRIC}", `), STREAM_WRITE_FAILURES_METRIC);
    assert.ok(src.includes('&[("Function", CONSUMER), ("App", app_id)]'));
    assert.ok(src.includes(`pub const CONSUMER: &str = "${COLLECTOR_FUNCTION}";`));
  });
  test('the env the stack sets is the env entry.rs reads', () => {
    const src = rs('entry.rs');
    for (const v of ['STREAM_NAME', 'SRE_QUEUE_URL', 'POISON_DLQ_URL', 'KEYS_TABLE']) assert.ok(src.includes(`"${v}"`), v);
    // The Fargate task's additions, read by the server host.
    assert.ok(rs('bin/collector-server.rs').includes('"COLLECTOR_ADDR"'));
    assert.ok(rs('throttle.rs').includes('"APP_RATE_LIMIT_RPS"'));
  });
  test('the Dockerfile builds collector-server for arm64 and serves the port and health route the ALB uses', () => {
    const df = fs.readFileSync(path.join(COLLECTOR_DIR, 'Dockerfile'), 'utf8');
    assert.match(df, /--features server --bin collector-server/);
    assert.match(df, new RegExp(`EXPOSE ${SERVER_PORT}\\b`));
    assert.ok(df.includes(`127.0.0.1:${SERVER_PORT}${HEALTH_PATH}`));
  });
});

describe('collector on Lambda with a function URL (the default)', () => {
  const t = defaultTemplate();
  const [fnId, fn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === COLLECTOR_FUNCTION);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  const id = ids(t);

  test('the keys table: pk app_id, sk kid, on-demand, PITR, CMK', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: KEYS_TABLE.name,
      KeySchema: [{ AttributeName: KEYS_TABLE.pk, KeyType: 'HASH' }, { AttributeName: KEYS_TABLE.sk, KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [id.key, 'Arn'] } },
    });
  });

  test('arm64, sized from EXTRA_FUNCTIONS, reserved concurrency, the stream, queues and table by reference', () => {
    const p = fn.Properties;
    assert.deepEqual(p.Architectures, ['arm64']);
    assert.equal(p.MemorySize, EXTRA_FUNCTIONS.collector.memoryMb);
    assert.equal(p.Timeout, EXTRA_FUNCTIONS.collector.timeoutS);
    assert.equal(p.ReservedConcurrentExecutions, EXTRA_FUNCTIONS.collector.reservedConcurrency);
    const env = p.Environment.Variables;
    assert.deepEqual(env.STREAM_NAME, { Ref: id.stream });
    assert.deepEqual(env.KEYS_TABLE, { Ref: id.keys });
    assert.deepEqual(env.SRE_QUEUE_URL, { Ref: id.quality });
    assert.deepEqual(env.POISON_DLQ_URL, { Ref: id.poison });
  });

  test('IAM: PutRecords on the stream only, SendMessage on the two queues, GetItem/Query on the keys table', () => {
    assertLeastPrivilege(t, roleId);
  });

  test('function URL: auth NONE (the app key is checked in the function), CORS for web players, public invoke via the URL only', () => {
    const [, url] = only(t, 'AWS::Lambda::Url', (r) => r.Properties.TargetFunctionArn['Fn::GetAtt'][0] === fnId);
    assert.equal(url.Properties.AuthType, 'NONE');
    assert.deepEqual(url.Properties.Cors.AllowOrigins, ['*']);
    assert.deepEqual(url.Properties.Cors.AllowMethods, ['POST']);
    assert.deepEqual(url.Properties.Cors.AllowHeaders, CORS_HEADERS);
    const perms = Object.values(resources(t, 'AWS::Lambda::Permission'))
      .filter((r) => JSON.stringify(r.Properties.FunctionName).includes(fnId)).map((r) => r.Properties);
    assert.ok(perms.length > 0);
    for (const p of perms) {
      assert.equal(p.Principal, '*');
      assert.ok(p.FunctionUrlAuthType === 'NONE' || p.InvokedViaFunctionUrl === true, JSON.stringify(p));
    }
    const skips = (url as Resource).Metadata?.checkov?.skip ?? [];
    assert.deepEqual(skips.map((s: any) => s.id), ['CKV_AWS_258']);
  });

  test('no HTTP API, no ECS', () => {
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    t.resourceCountIs('AWS::ECS::Service', 0);
  });

  test('alarms: errors, throttles, 5xx rate, p99 latency, stream write failures, on the ops topic', () => {
    assertAlarms(t, ['errors', 'throttles', '5xx-rate', 'p99-latency', 'stream-write-failures']);
    const alarms = alarmsOf(t);
    const rate = alarms.find((x) => x.AlarmName === 'playback-collector-5xx-rate');
    const metrics = rate.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName).sort();
    assert.deepEqual(metrics, ['Url5xxCount', 'UrlRequestCount']);
    const p99 = alarms.find((x) => x.AlarmName === 'playback-collector-p99-latency');
    assert.deepEqual([p99.MetricName, p99.ExtendedStatistic], ['UrlRequestLatency', 'p99']);
    assert.deepEqual(p99.Dimensions, [{ Name: 'FunctionName', Value: { Ref: fnId } }]);
  });
});

describe('collector on the dashboard', () => {
  const body = JSON.stringify(Object.values(resources(defaultTemplate(), 'AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
  const src = fs.readFileSync(path.join(COLLECTOR_DIR, 'src', 'lib.rs'), 'utf8');
  for (const m of ['EventsAccepted', 'EventsRejected', 'StreamWriteFailures', 'SreQueueWriteFailures', 'DeadLetterWriteFailures', 'ClockLeadMaxMs', 'ClockLagMaxMs']) {
    test(`${m}: emitted by lib.rs, shown (namespace Playback)`, () => {
      assert.ok(src.includes(`("${m}", `), m);
      const q = '\\\\*"';
      assert.match(body, new RegExp(`SEARCH\\(.*Namespace=${q}Playback${q} MetricName=${q}${m}${q}`), m);
    });
  }
});

describe('collector on Lambda behind an HTTP API (-c collectorApi=httpapi)', () => {
  const t = synth({ context: { collectorApi: 'httpapi' } });
  test('one POST /v1/events route to the function, on the $default stage with throttling and access logs', () => {
    t.resourceCountIs('AWS::Lambda::Url', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /v1/events' });
    const [, stage] = only(t, 'AWS::ApiGatewayV2::Stage', () => true);
    const p = stage.Properties;
    assert.equal(p.StageName, '$default');
    assert.deepEqual(p.DefaultRouteSettings, { ThrottlingRateLimit: HTTP_API_THROTTLE.rateLimit, ThrottlingBurstLimit: HTTP_API_THROTTLE.burstLimit });
    const logId = p.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    assert.ok(resources(t, 'AWS::Logs::LogGroup')[logId].Properties.KmsKeyId, 'access logs CMK-encrypted');
    assert.match(p.AccessLogSettings.Format, /\$context\.requestId/);
  });
  test('IAM as on the function URL', () => {
    const [, fn] = only(t, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === COLLECTOR_FUNCTION);
    assertLeastPrivilege(t, fn.Properties.Role['Fn::GetAtt'][0]);
  });
  test('alarms on the API\'s metrics', () => {
    assertAlarms(t, ['errors', 'throttles', '5xx-rate', 'p99-latency', 'api-4xx-rate', 'stream-write-failures']);
    const p99 = alarmsOf(t).find((x) => x.AlarmName === 'playback-collector-p99-latency');
    assert.deepEqual([p99.Namespace, p99.MetricName, p99.ExtendedStatistic], ['AWS/ApiGateway', 'Latency', 'p99']);
  });
});

describe('collector on Fargate (-c collectorHost=fargate)', () => {
  const t = synth({ context: { collectorHost: 'fargate' } });
  const [, task] = only(t, 'AWS::ECS::TaskDefinition', () => true);
  const roleId = task.Properties.TaskRoleArn['Fn::GetAtt'][0] as string;

  test('no collector Lambda; no custom resources', () => {
    assert.equal(Object.values(resources(t, 'AWS::Lambda::Function')).filter((r) => r.Properties.FunctionName === COLLECTOR_FUNCTION).length, 0);
    const types = Object.values(t.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    assert.ok(!types.some((ty) => ty.startsWith('Custom::')));
  });

  test('an arm64 task of the collector-server image on port 8080, health-checked on /healthz, read-only root, not root', () => {
    assert.deepEqual(task.Properties.RuntimePlatform, { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    const [c] = task.Properties.ContainerDefinitions;
    assert.deepEqual(c.PortMappings.map((p: any) => p.ContainerPort), [SERVER_PORT]);
    assert.ok(c.HealthCheck.Command.join(' ').includes(`${SERVER_PORT}${HEALTH_PATH}`));
    assert.equal(c.ReadonlyRootFilesystem, true);
    assert.notEqual(c.User, '0');
    const env = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
    assert.equal(env.COLLECTOR_ADDR, `0.0.0.0:${SERVER_PORT}`);
    assert.equal(env.APP_RATE_LIMIT_RPS, String(FARGATE.appRps));
    for (const v of ['STREAM_NAME', 'SRE_QUEUE_URL', 'POISON_DLQ_URL', 'KEYS_TABLE']) assert.ok(env[v], v);
  });

  test('the task role has exactly the Lambda\'s grants', () => assertLeastPrivilege(t, roleId));

  test('tasks in isolated subnets without public IPs, reachable from the ALB only; CPU auto scaling', () => {
    const [, svc] = only(t, 'AWS::ECS::Service', () => true);
    const net = svc.Properties.NetworkConfiguration.AwsvpcConfiguration;
    assert.equal(net.AssignPublicIp, 'DISABLED');
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: SERVER_PORT, ToPort: SERVER_PORT, IpProtocol: 'tcp' });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
    });
  });

  test('the ALB logs to the access-log bucket under its prefix, and may write there', () => {
    const [, alb] = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer', () => true);
    const attrs = Object.fromEntries(alb.Properties.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
    assert.equal(attrs['access_logs.s3.enabled'], 'true');
    assert.equal(attrs['access_logs.s3.prefix'], ALB_LOG_PREFIX);
    assert.equal(attrs['routing.http.drop_invalid_header_fields.enabled'], 'true');
    const bucketId = attrs['access_logs.s3.bucket'].Ref;
    const [, bucket] = only(t, 'AWS::S3::Bucket', (r) => r.Properties.LifecycleConfiguration?.Rules?.[0]?.Id === 'expire-access-logs');
    assert.deepEqual(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
    const [, policy] = only(t, 'AWS::S3::BucketPolicy', (r) => r.Properties.Bucket.Ref === bucketId);
    const writes = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Sid?.startsWith('CollectorAlbLogs'));
    assert.equal(writes.length, 2);
    for (const s of writes) {
      assert.equal(s.Action, 's3:PutObject');
      assert.ok(JSON.stringify(s.Resource).includes(`/${ALB_LOG_PREFIX}/AWSLogs/`), JSON.stringify(s.Resource));
    }
  });

  test('no certificate: one HTTP listener (suppressions argued); with -c collectorCertArn: HTTPS only', () => {
    const [, http] = only(t, 'AWS::ElasticLoadBalancingV2::Listener', () => true);
    assert.deepEqual([http.Properties.Port, http.Properties.Protocol], [80, 'HTTP']);
    assert.deepEqual((http as Resource).Metadata.checkov.skip.map((s: any) => s.id).sort(), ['CKV_AWS_103', 'CKV_AWS_2']);
    const cert = 'arn:aws:acm:eu-west-1:111122223333:certificate/test';
    const tls = synth({ context: { collectorHost: 'fargate', collectorCertArn: cert, collectorImage: 'playback-collector:v1' } });
    const [, https] = only(tls, 'AWS::ElasticLoadBalancingV2::Listener', () => true);
    assert.deepEqual([https.Properties.Port, https.Properties.Protocol], [443, 'HTTPS']);
    assert.deepEqual(https.Properties.Certificates, [{ CertificateArn: cert }]);
    assert.equal((https as Resource).Metadata?.checkov, undefined);
    const [, task2] = only(tls, 'AWS::ECS::TaskDefinition', () => true);
    assert.match(JSON.stringify(task2.Properties.ContainerDefinitions[0].Image), /playback-collector:v1/);
  });

  test('alarms: 5xx rate, p99 latency, rejected connections, stream write failures, on the ops topic', () => {
    assertAlarms(t, ['5xx-rate', 'p99-latency', 'rejected-connections', 'stream-write-failures']);
    const rate = alarmsOf(t).find((x) => x.AlarmName === 'playback-collector-5xx-rate');
    const metrics = rate.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.MetricName).sort();
    assert.deepEqual(metrics, ['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'RequestCount']);
  });

  test('built zips but no image and no placeholder code: synth refuses, naming the flag', () => {
    // Every Lambda zip present (the collector's is not needed on this host).
    const dir = tempDir('collector-zips-');
    for (const n of FUNCTION_NAMES.filter((x) => x !== COLLECTOR_FUNCTION)) {
      fs.mkdirSync(path.join(dir, n));
      fs.writeFileSync(path.join(dir, n, 'bootstrap.zip'), 'zip');
    }
    assert.throws(() => synth({ context: { collectorHost: 'fargate', placeholderCode: 'false' }, lambdaTargetDir: dir }), /-c collectorImage=/);
  });
});
