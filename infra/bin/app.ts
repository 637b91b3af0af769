#!/usr/bin/env node
// CDK entry point. Offline synth: `npx cdk synth --app "npx tsx bin/app.ts" -c placeholderCode=true`.
import { App } from 'aws-cdk-lib';
import { MissingLambdaCodeError } from '../lib/code';
import { PlaybackStack } from '../lib/stack';

export const STACK_NAME = 'PlaybackTelemetry';

const app = new App();
try {
  new PlaybackStack(app, STACK_NAME, {
    description: 'Playback telemetry pipeline: Kinesis, Rust Lambdas, DynamoDB, SQS, SNS, Firehose to a Parquet lake, Athena',
    analyticsReporting: false,
    tags: { project: 'playback-telemetry' },
  });
  app.synth();
} catch (e) {
  if (e instanceof MissingLambdaCodeError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
