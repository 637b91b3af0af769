// Shared synthesis for the assertion tests: offline, placeholder code, no AWS account.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PlaybackStack } from '../lib/stack';
import { loadLakeColumns, loadTopology } from '../lib/topology';

// aws-cdk-lib's built-in CloudFormation validation (a WASM engine, ~8 s per synth) runs in
// `make synth`; cfn-lint and checkov run on that template. The assertion tests skip it.
process.env.CDK_VALIDATION = 'false';

export const topology = loadTopology();
export const columns = loadLakeColumns();

/** A Lambda target dir that never holds zips, so tests never depend on a Rust build. */
export const NO_ZIPS_DIR = path.join(os.tmpdir(), 'playback-infra-test-no-zips');

export interface SynthOptions {
  readonly context?: Record<string, unknown>;
  readonly athenaDir?: string;
  readonly lambdaTargetDir?: string;
}

export function buildStack(opts: SynthOptions = {}): PlaybackStack {
  const app = new App({ context: { placeholderCode: 'true', ...opts.context } });
  return new PlaybackStack(app, 'PlaybackTest', {
    athenaDir: opts.athenaDir,
    lambdaTargetDir: opts.lambdaTargetDir ?? NO_ZIPS_DIR,
  });
}

export function synth(opts: SynthOptions = {}): Template {
  return Template.fromStack(buildStack(opts));
}

let cached: Template | undefined;
/** The default template (all defaults, real infra/athena folder), synthesized once per test file. */
export function defaultTemplate(): Template {
  cached ??= synth();
  return cached;
}

export type Resource = { Type: string; Properties?: any; Metadata?: any; DependsOn?: string[] };

export function resources(t: Template, type: string): Record<string, Resource> {
  return t.findResources(type) as Record<string, Resource>;
}

/** The single resource of `type` whose properties match `pred`. */
export function only(t: Template, type: string, pred: (r: Resource) => boolean): [string, Resource] {
  const found = Object.entries(resources(t, type)).filter(([, r]) => pred(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

export function logicalIdOf(t: Template, type: string, pred: (r: Resource) => boolean): string {
  return only(t, type, pred)[0];
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Every logical id referenced (Ref / Fn::GetAtt) anywhere inside `value`. */
export function refs(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => refs(v, into));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') into.add(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v)) into.add(String(v[0]));
      else refs(v, into);
    }
  }
  return into;
}
