// Lambda code: the zips `cargo lambda build --release --arm64 --output-format zip`
// writes to target/lambda/<function>/bootstrap.zip, or (only with
// -c placeholderCode=true) a committed placeholder so synth never needs the Rust build.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { INFRA_DIR, REPO_DIR } from './topology';

export const DEFAULT_LAMBDA_TARGET_DIR = path.join(REPO_DIR, 'target', 'lambda');
export const PLACEHOLDER_DIR = path.join(INFRA_DIR, 'assets', 'placeholder');

export class MissingLambdaCodeError extends Error {
  constructor(readonly missing: string[]) {
    super(`missing Lambda build output ${missing.map((m) => path.relative(REPO_DIR, m)).join(', ')}: run \`make build\` first`);
    this.name = 'MissingLambdaCodeError';
  }
}

export function zipPath(name: string, targetDir: string = DEFAULT_LAMBDA_TARGET_DIR): string {
  return path.join(targetDir, name, 'bootstrap.zip');
}

/** The zips that are not there yet. */
export function missingZips(names: readonly string[], targetDir: string = DEFAULT_LAMBDA_TARGET_DIR): string[] {
  return names.map((n) => zipPath(n, targetDir)).filter((z) => !fs.existsSync(z));
}

export interface CodeSource {
  readonly targetDir: string;
  readonly allowPlaceholder: boolean;
}

export function functionCode(name: string, src: CodeSource): lambda.Code {
  const zip = zipPath(name, src.targetDir);
  if (fs.existsSync(zip)) return lambda.Code.fromAsset(zip);
  if (src.allowPlaceholder) return lambda.Code.fromAsset(PLACEHOLDER_DIR);
  throw new MissingLambdaCodeError([zip]);
}
