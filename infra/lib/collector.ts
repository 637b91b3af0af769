// The ingest edge (functions/collector): the app-keys table and one of two hosts,
// chosen with -c collectorHost:
//  - lambda (default): the RustFunction behind a function URL (auth NONE: the app key
//    is checked in the function; CORS for web players), or with -c collectorApi=httpapi
//    an API Gateway HTTP API with stage throttling and access logs;
//  - fargate: the collector-server image (functions/collector/Dockerfile) on ECS Fargate
//    behind an ALB with access logs and CPU auto scaling, in a VPC with no NAT (the tasks
//    reach AWS through VPC endpoints).
// Both hosts get the same least-privilege grants and the same alarms.
import { CfnOutput, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as apigwInt from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { CodeSource, functionCode } from './code';
import { DeployParams, EXTRA_FUNCTIONS, storeRemovalPolicy } from './config';
import { ALARM_NAME_PREFIX, METRICS_NAMESPACE } from './monitoring';
import { retentionDays, RustFunction } from './rust-function';
import { skipCheckov } from './suppress';

export const COLLECTOR_FUNCTION = 'collector';
/** Item keys of the table (functions/collector/src/dynamo_keys.rs PK, SK; a test compares). */
export const KEYS_TABLE = { name: 'playback-app-keys', pk: 'app_id', sk: 'kid' } as const;
/** EMF metric the collector emits per request, dimensions Function and App (src/lib.rs emit). */
export const STREAM_WRITE_FAILURES_METRIC = 'StreamWriteFailures';
/** The Fargate host (collector-server): its port and health route. */
export const SERVER_PORT = 8080;
export const HEALTH_PATH = '/healthz';
/** The ALB's access logs, in the stack's access-log bucket. */
export const ALB_LOG_PREFIX = 'collector-alb';
/** Players' CORS: what a browser may send (the core answers the same on every response). */
export const CORS_HEADERS = ['authorization', 'content-type', 'content-encoding'];

export const COLLECTOR_ALARMS = {
  /** 5xx answers as a share of requests, percent, over 3 of 5 minutes. */
  errorRatePercent: 1,
  /** The retry budget is ~3 s; a healthy request is well under a second. */
  p99LatencyMs: 1000,
} as const;

/** HTTP API stage throttling (account-level default is 10 000 rps, burst 5 000). */
export const HTTP_API_THROTTLE = { rateLimit: 5000, burstLimit: 2000 } as const;

/** The Fargate service: 0.5 vCPU / 1 GiB tasks, two at least (one per AZ). */
// appRps: each task admits this many requests/s per app (collector-server's
// APP_RATE_LIMIT_RPS; 429 past it): ~1.5 x a task's share of the peak at 2 B
// events/day, so only a runaway build hits it; the fleet's limit grows with the tasks.
export const FARGATE = { cpu: 512, memoryMiB: 1024, minTasks: 2, maxTasks: 20, cpuTargetPercent: 60, appRps: 2000 } as const;

export interface CollectorProps {
  readonly params: DeployParams;
  readonly code: CodeSource;
  readonly key: kms.IKey;
  readonly stream: kinesis.IStream;
  readonly sreQueue: sqs.IQueue;
  readonly poisonDlq: sqs.IQueue;
  /** The SSE-S3 access-log bucket (ALB logs cannot go to a KMS bucket). */
  readonly accessLogs: s3.IBucket;
}

export class Collector extends Construct {
  readonly keysTable: dynamodb.Table;
  /** The lambda host's function, else undefined. */
  readonly fn?: RustFunction;
  readonly functionUrl?: lambda.FunctionUrl;
  readonly httpApi?: apigw.HttpApi;
  service?: ecs.FargateService;
  alb?: elbv2.ApplicationLoadBalancer;
  taskRole?: iam.Role;
  readonly endpoint: string;
  private readonly props: CollectorProps;

  constructor(scope: Construct, id: string, props: CollectorProps) {
    super(scope, id);
    this.props = props;
    const { params, key } = props;

    this.keysTable = new dynamodb.Table(this, 'KeysTable', {
      tableName: KEYS_TABLE.name,
      partitionKey: { name: KEYS_TABLE.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: KEYS_TABLE.sk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      deletionProtection: params.retainData,
      removalPolicy: storeRemovalPolicy(params),
    });

    const environment = {
      STREAM_NAME: props.stream.streamName,
      SRE_QUEUE_URL: props.sreQueue.queueUrl,
      POISON_DLQ_URL: props.poisonDlq.queueUrl,
      KEYS_TABLE: this.keysTable.tableName,
    };

    if (params.collectorHost === 'lambda') {
      const c = EXTRA_FUNCTIONS.collector;
      const reserved = params.reserveConcurrency ? params.collectorConcurrency : undefined;
      this.fn = new RustFunction(this, COLLECTOR_FUNCTION, {
        functionName: COLLECTOR_FUNCTION,
        description: 'Ingest edge: POST /v1/events with an app key -> Kinesis, SRE queue, DLQ',
        code: functionCode(COLLECTOR_FUNCTION, props.code),
        memoryMb: c.memoryMb, timeoutS: c.timeoutS, environment, key,
        reservedConcurrency: reserved,
        logRetentionDays: params.logRetentionDays, logRemovalPolicy: storeRemovalPolicy(params),
        skips: [
          { id: 'CKV_AWS_116', comment: 'Invoked synchronously over HTTP; the player gets the error and retries with the same event_ids, an async DLQ would never receive anything.' },
          ...(reserved === undefined ? [{ id: 'CKV_AWS_115', comment: 'Reserved concurrency disabled with -c reserveConcurrency=false (account quota too small to reserve).' }] : []),
        ],
      });
      this.grant(this.fn.role);
      if (params.collectorApi === 'httpapi') {
        this.httpApi = this.addHttpApi(this.fn.fn);
        this.endpoint = this.httpApi.apiEndpoint;
      } else {
        this.functionUrl = this.fn.fn.addFunctionUrl({
          authType: lambda.FunctionUrlAuthType.NONE,
          cors: {
            allowedOrigins: ['*'],
            allowedMethods: [lambda.HttpMethod.POST],
            allowedHeaders: CORS_HEADERS,
            maxAge: Duration.days(1),
          },
        });
        skipCheckov(this.functionUrl, { id: 'CKV_AWS_258', comment: 'Players hold no AWS credentials: the function authenticates every request by its app key (Authorization: Playback app=.., kid=.., key=..) against the keys table; IAM auth is impossible for them.' });
        this.endpoint = this.functionUrl.url;
      }
    } else {
      this.endpoint = this.addFargate(environment);
    }
    new CfnOutput(this, 'Endpoint', { value: this.endpoint, description: `Collector endpoint (${params.collectorHost}); players POST /v1/events` });
    new CfnOutput(this, 'KeysTableName', { value: this.keysTable.tableName, description: 'App keys (pk app_id, sk kid, sha256, status)' });
  }

  /** What the collector may do, whatever its host. */
  private grant(role: iam.IRole): void {
    const { stream, sreQueue, poisonDlq, key } = this.props;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'StreamWrite', actions: ['kinesis:PutRecords'], resources: [stream.streamArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'QueuesSend', actions: ['sqs:SendMessage'], resources: [sreQueue.queueArn, poisonDlq.queueArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KeysRead', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [this.keysTable.tableArn] }));
    // The stream, queues and table are encrypted with the CMK: writing needs a data key, reading the table a decrypt.
    key.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  private addHttpApi(fn: lambda.IFunction): apigw.HttpApi {
    const { params, key } = this.props;
    const api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: 'playback-collector',
      description: 'Playback ingest edge (collector Lambda)',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [apigw.CorsHttpMethod.POST],
        allowHeaders: CORS_HEADERS,
        maxAge: Duration.days(1),
      },
    });
    // No authorizer: the function checks the app key (an authorizer would be a second invocation per request).
    api.addRoutes({
      path: '/v1/events',
      methods: [apigw.HttpMethod.POST],
      integration: new apigwInt.HttpLambdaIntegration('Collector', fn, { payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0 }),
    });
    const accessLogs = new logs.LogGroup(this, 'HttpApiAccessLogs', {
      logGroupName: '/aws/apigateway/playback-collector',
      retention: retentionDays(params.logRetentionDays),
      encryptionKey: key,
      removalPolicy: storeRemovalPolicy(params),
    });
    // $default: the core matches the raw path, a named stage would prefix it.
    new apigw.HttpStage(this, 'Stage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: HTTP_API_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: apigwv1.AccessLogFormat.custom(JSON.stringify({
          requestId: '$context.requestId', ip: '$context.identity.sourceIp', time: '$context.requestTimeEpoch',
          route: '$context.routeKey', status: '$context.status', length: '$context.responseLength',
          latency: '$context.responseLatency', integrationError: '$context.integrationErrorMessage',
        })),
      },
    });
    return api;
  }

  private addFargate(environment: Record<string, string>): string {
    const { params, key } = this.props;
    const removalPolicy = storeRemovalPolicy(params);

    // No NAT gateway: the tasks sit in isolated subnets and reach AWS through endpoints.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      restrictDefaultSecurityGroup: false,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 }, // ECR image layers
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    skipCheckov(vpc.node.defaultChild as CfnResource, { id: 'CKV2_AWS_12', comment: 'The default security group is attached to nothing (every resource has its own group); restricting it takes a custom-resource Lambda, which this stack does not use.' });
    for (const svc of [ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS, ec2.InterfaceVpcEndpointAwsService.SQS,
      ec2.InterfaceVpcEndpointAwsService.ECR, ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS]) {
      vpc.addInterfaceEndpoint(svc.shortName.replace(/[^a-zA-Z0-9]/g, ''), { service: svc, subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    }
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: retentionDays(params.logRetentionDays), encryptionKey: key, removalPolicy,
    });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Task role of the collector on Fargate',
    });
    this.grant(taskRole);
    this.taskRole = taskRole;
    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: FARGATE.cpu, memoryLimitMiB: FARGATE.memoryMiB, taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const taskLogs = new logs.LogGroup(this, 'TaskLogs', {
      logGroupName: '/ecs/playback-collector', retention: retentionDays(params.logRetentionDays), encryptionKey: key, removalPolicy,
    });
    task.addContainer('collector', {
      image: this.image(),
      environment: {
        ...environment, RUST_LOG: 'info', AWS_LAMBDA_LOG_FORMAT: 'JSON',
        COLLECTOR_ADDR: `0.0.0.0:${SERVER_PORT}`, PLAYBACK_EMF: 'stdout',
        APP_RATE_LIMIT_RPS: String(FARGATE.appRps),
      },
      portMappings: [{ containerPort: SERVER_PORT }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: taskLogs, streamPrefix: 'collector' }),
      readonlyRootFilesystem: true,
      user: '65532',
      healthCheck: {
        command: ['CMD', 'curl', '-fsS', `http://127.0.0.1:${SERVER_PORT}${HEALTH_PATH}`],
        interval: Duration.seconds(15), timeout: Duration.seconds(3), retries: 3, startPeriod: Duration.seconds(10),
      },
    });

    const albSg = new ec2.SecurityGroup(this, 'AlbSg', { vpc, description: 'Collector ALB: players over the internet', allowAllOutbound: false });
    const taskSg = new ec2.SecurityGroup(this, 'TaskSg', { vpc, description: 'Collector tasks: the ALB only', allowAllOutbound: true });
    const https = params.collectorCertArn !== undefined;
    const port = https ? 443 : 80;
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), 'players');
    albSg.addEgressRule(taskSg, ec2.Port.tcp(SERVER_PORT), 'to the tasks');
    taskSg.addIngressRule(albSg, ec2.Port.tcp(SERVER_PORT), 'from the ALB');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster, taskDefinition: task, desiredCount: FARGATE.minTasks,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, securityGroups: [taskSg], assignPublicIp: false,
      circuitBreaker: { rollback: true },
    });
    // The service depends on the listener (CDK) and refs its target group (W3005: harmless redundancy).
    (this.service.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    const scaling = this.service.autoScaleTaskCount({ minCapacity: FARGATE.minTasks, maxCapacity: FARGATE.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: FARGATE.cpuTargetPercent });

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc, internetFacing: true, securityGroup: albSg, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true, deletionProtection: params.retainData,
    });
    this.logAccessLogs(this.alb);
    if (!params.retainData) skipCheckov(this.alb, { id: 'CKV_AWS_150', comment: 'Deletion protection follows -c retainData; it is off only for throwaway stacks.' });
    const targets = {
      port: SERVER_PORT, protocol: elbv2.ApplicationProtocol.HTTP, targets: [this.service],
      healthCheck: { path: HEALTH_PATH, healthyHttpCodes: '200', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    };
    if (https) {
      const listener = this.alb.addListener('Https', {
        port: 443, protocol: elbv2.ApplicationProtocol.HTTPS, open: false,
        certificates: [elbv2.ListenerCertificate.fromArn(params.collectorCertArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      });
      listener.addTargets('Collector', targets);
    } else {
      const listener = this.alb.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: false });
      listener.addTargets('Collector', targets);
      const why = 'No certificate given (-c collectorCertArn=<ACM ARN> adds the HTTPS listener instead): an HTTP-only edge for a test deploy or behind a TLS-terminating CDN; players must not send app keys over it in production.';
      skipCheckov(listener, { id: 'CKV_AWS_2', comment: why }, { id: 'CKV_AWS_103', comment: why });
      skipCheckov(this.alb, { id: 'CKV2_AWS_20', comment: why });
      skipCheckov(albSg, { id: 'CKV_AWS_260', comment: why });
    }
    return `${https ? 'https' : 'http'}://${this.alb.loadBalancerDnsName}`;
  }

  /**
   * ALB access logs into the SSE-S3 log bucket. CDK's logAccessLogs needs a concrete region;
   * this stack is region-agnostic, so the bucket policy is written here: regions older than
   * Aug 2022 deliver as their regional ELB account (a mapping of CDK's region facts; unknown
   * regions fall back to us-east-1's, an AWS-owned account), newer ones as the log-delivery
   * service principal. Both may only write under this ALB's prefix of this account.
   */
  private logAccessLogs(alb: elbv2.ApplicationLoadBalancer): void {
    const bucket = this.props.accessLogs;
    const stack = Stack.of(this);
    const objects = bucket.arnForObjects(`${ALB_LOG_PREFIX}/AWSLogs/${stack.account}/*`);
    const elbAccount = stack.regionalFact(FactName.ELBV2_ACCOUNT, '127311923021');
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CollectorAlbLogsElbAccount', actions: ['s3:PutObject'], resources: [objects],
      principals: [new iam.ArnPrincipal(`arn:${stack.partition}:iam::${elbAccount}:root`)],
    }));
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CollectorAlbLogsDelivery', actions: ['s3:PutObject'], resources: [objects],
      principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    }));
    alb.setAttribute('access_logs.s3.enabled', 'true');
    alb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
    alb.setAttribute('access_logs.s3.prefix', ALB_LOG_PREFIX);
    // The ALB checks it can write when the attribute is set.
    if (bucket.policy) alb.node.addDependency(bucket.policy);
  }

  /** The pushed image (-c collectorImage=<repo>[:tag]); with placeholderCode, a named placeholder. */
  private image(): ecs.ContainerImage {
    const { params } = this.props;
    const ref = params.collectorImage ?? (params.placeholderCode ? 'playback-collector:placeholder' : undefined);
    if (ref === undefined) {
      throw new Error('collectorHost=fargate needs -c collectorImage=<ecr repository>[:tag] (functions/collector/README.md, "Deploying")');
    }
    const [repo, tag = 'latest'] = ref.split(':');
    return ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(this, 'Repo', repo), tag);
  }

  /** 5xx rate, p99 latency, throttles and stream write failures, for the host deployed. */
  addAlarms(alarm: (id: string, p: cw.AlarmProps) => cw.Alarm): void {
    const a = COLLECTOR_ALARMS;
    const minute = { period: Duration.minutes(1) };
    const sum = { ...minute, statistic: cw.Stats.SUM };
    let requests: cw.IMetric; let errors: cw.IMetric; let latency: cw.IMetric;
    if (this.httpApi) {
      const dims = { ApiId: this.httpApi.apiId, Stage: '$default' };
      const m = (metricName: string, statistic: string) => new cw.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: dims, ...minute, statistic });
      [requests, errors, latency] = [m('Count', cw.Stats.SUM), m('5xx', cw.Stats.SUM), m('Latency', cw.Stats.p(99))];
    } else if (this.fn) {
      const m = (metricName: string, statistic: string) => this.fn!.fn.metric(metricName, { ...minute, statistic });
      [requests, errors, latency] = [m('UrlRequestCount', cw.Stats.SUM), m('Url5xxCount', cw.Stats.SUM), m('UrlRequestLatency', cw.Stats.p(99))];
    } else {
      const lb = this.alb!.metrics;
      requests = lb.requestCount(sum);
      errors = new cw.MathExpression({
        expression: 'FILL(t5, 0) + FILL(l5, 0)',
        usingMetrics: { t5: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum), l5: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, sum) },
        ...minute,
      });
      // Seconds in CloudWatch; the threshold below is in ms.
      latency = new cw.MathExpression({ expression: 'r * 1000', usingMetrics: { r: lb.targetResponseTime({ ...minute, statistic: cw.Stats.p(99) }) }, ...minute });
      alarm('collector-RejectedConnections', {
        alarmName: `${ALARM_NAME_PREFIX}collector-rejected-connections`,
        alarmDescription: 'The collector ALB rejected connections (its connection limit): players get errors; scale out or raise the task count.',
        metric: lb.custom('RejectedConnectionCount', sum),
        threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1,
      });
    }
    alarm('collector-5xxRate', {
      alarmName: `${ALARM_NAME_PREFIX}collector-5xx-rate`,
      alarmDescription: `More than ${a.errorRatePercent} % of collector requests answered 5xx (stream or key-store outage, timeouts): players are retrying.`,
      metric: new cw.MathExpression({ expression: 'IF(n > 0, 100 * FILL(e, 0) / n, 0)', usingMetrics: { e: errors, n: requests }, ...minute }),
      threshold: a.errorRatePercent, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5, datapointsToAlarm: 3,
    });
    alarm('collector-P99Latency', {
      alarmName: `${ALARM_NAME_PREFIX}collector-p99-latency`,
      alarmDescription: `Collector p99 latency above ${a.p99LatencyMs} ms (the stream write is retrying).`,
      metric: latency,
      threshold: a.p99LatencyMs, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5, datapointsToAlarm: 3,
    });
    if (this.httpApi) {
      // The stage's throttle answers 429 before the function runs: a share of 4xx is the signal.
      const fourxx = new cw.Metric({ namespace: 'AWS/ApiGateway', metricName: '4xx', dimensionsMap: { ApiId: this.httpApi.apiId, Stage: '$default' }, ...sum });
      alarm('collector-ApiThrottles', {
        alarmName: `${ALARM_NAME_PREFIX}collector-api-4xx-rate`,
        alarmDescription: `More than 5 % of HTTP API requests answered 4xx: the stage throttle (${HTTP_API_THROTTLE.rateLimit} rps) or bad keys; see the access logs.`,
        metric: new cw.MathExpression({ expression: 'IF(n > 0, 100 * FILL(e, 0) / n, 0)', usingMetrics: { e: fourxx, n: requests }, ...minute }),
        threshold: 5, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 5, datapointsToAlarm: 3,
      });
    }
    // Every App's series at once: a Metrics Insights query (an alarm cannot use SEARCH).
    alarm('collector-StreamWriteFailures', {
      alarmName: `${ALARM_NAME_PREFIX}collector-stream-write-failures`,
      alarmDescription: 'Collector requests could not write to the stream after bounded retries (503 to the players, who retry): check the stream, its throughput and the role.',
      metric: new cw.MathExpression({
        expression: `SELECT SUM(${STREAM_WRITE_FAILURES_METRIC}) FROM SCHEMA("${METRICS_NAMESPACE}", App, Function) WHERE Function = '${COLLECTOR_FUNCTION}'`,
        usingMetrics: {},
        ...minute,
      }),
      threshold: 0, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3, datapointsToAlarm: 2,
    });
  }
}

/** The role that calls AWS for the collector, whatever the host. */
export function collectorRole(c: Collector): iam.IRole {
  return c.fn?.role ?? c.taskRole!;
}
