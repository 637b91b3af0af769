// Steps shared by the batch state machines (lib/long-horizon.ts,
// lib/training-build.ts): a Lambda action, and an Athena query polled to its end.
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/** One action of a batch function; Lambda's own transient errors are retried. */
export function lambdaStep(scope: Construct, id: string, fn: lambda.IFunction,
  payload: Record<string, unknown>, resultPath: string | undefined): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    resultPath,
  });
  task.addRetry({ errors: ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.SdkClientException'], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2 });
  return task;
}

export interface PollProps {
  /** JSONPath of the query id in the state. */
  readonly queryIdPath: string;
  readonly workgroupArn: string;
  readonly pollS: number;
  /** The Fail state's cause when the query fails or is cancelled. */
  readonly failCause: string;
  /** What runs once the query SUCCEEDED. */
  readonly next: sfn.IChainable;
}

/** Wait -> GetQueryExecution -> done? (next | Fail | wait again). Returns the Wait, to chain after the start. */
export function pollAthena(scope: Construct, p: PollProps): sfn.Wait {
  const wait = new sfn.Wait(scope, 'WaitForQuery', { time: sfn.WaitTime.duration(Duration.seconds(p.pollS)) });
  const poll = new tasks.CallAwsService(scope, 'PollQuery', {
    service: 'athena', action: 'getQueryExecution',
    parameters: { QueryExecutionId: sfn.JsonPath.stringAt(p.queryIdPath) },
    iamResources: [p.workgroupArn],
    resultSelector: { 'state.$': '$.QueryExecution.Status.State' },
    resultPath: '$.query',
  });
  const failed = new sfn.Fail(scope, 'QueryFailed', { error: 'AthenaQueryFailed', cause: p.failCause });
  wait.next(poll).next(new sfn.Choice(scope, 'QueryDone?')
    .when(sfn.Condition.stringEquals('$.query.state', 'SUCCEEDED'), p.next)
    .when(sfn.Condition.or(sfn.Condition.stringEquals('$.query.state', 'FAILED'), sfn.Condition.stringEquals('$.query.state', 'CANCELLED')), failed)
    .otherwise(wait));
  return wait;
}
