// One Rust Lambda function (provided.al2023, arm64, handler "bootstrap") with its
// own role and its own encrypted log group. The role starts empty: no managed
// policy, only writes to its own log group; every other permission is a grant
// on a specific resource made by the caller.
import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_COMMON_SKIPS, skipCheckov, Skip } from './suppress';

export interface RustFunctionProps {
  readonly functionName: string;
  readonly description: string;
  readonly code: lambda.Code;
  readonly memoryMb: number;
  readonly timeoutS: number;
  readonly environment: Record<string, string>;
  readonly key: kms.IKey;
  readonly logRetentionDays: number;
  /** Of the log group: the stack's data-retention setting. */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly reservedConcurrency?: number;
  /** checkov findings that do not apply to this function, with the reason. */
  readonly skips?: Skip[];
}

export function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) throw new Error(`log retention ${days} days: CloudWatch allows ${allowed.join(', ')}`);
  return days as logs.RetentionDays;
}

export class RustFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RustFunctionProps) {
    super(scope, id);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: retentionDays(props.logRetentionDays),
      encryptionKey: props.key,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'OwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    this.fn = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: props.code,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutS),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { RUST_LOG: 'info', ...props.environment },
      // Env values are resource names, not secrets; the CMK keeps them encrypted at rest all the same.
      environmentEncryption: props.key,
      reservedConcurrentExecutions: props.reservedConcurrency,
    });
    props.key.grantDecrypt(this.role);
    // CDK makes the function depend on its role's subtree (so on the DefaultPolicy, which
    // must exist before the first invocation); the Role part is also implied by GetAtt,
    // which cfn-lint reports as W3005. That redundancy is harmless.
    (this.fn.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });

    skipCheckov(this.fn, ...LAMBDA_COMMON_SKIPS, ...(props.skips ?? []));
  }
}
