// A small IAM evaluator for the assertion tests: resolves the template's ARNs
// (intrinsics) to strings and decides Allow / Deny / implicit deny for one
// request against a list of statements, so tests check what a principal can do,
// not which statements exist. It throws on any policy element it does not model.

/** The pseudo parameters the tests resolve to. */
export const ENV = { partition: 'aws', region: 'eu-west-1', account: '111122223333' };

type Json = any;
export type Template = { Resources: Record<string, { Type: string; Properties?: Json }> };

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Json;
  Action: string | string[];
  Resource: Json;
  Condition?: Record<string, Record<string, Json>>;
}

export interface Request {
  /** Service principal (e.g. cloudwatch.amazonaws.com) or IAM principal ARN. */
  readonly service?: string;
  readonly arn?: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

export type Decision = 'Allow' | 'Deny' | 'ImplicitDeny';

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The physical name or ARN CloudFormation would give `Ref` / `Fn::GetAtt` of resource `id`. */
function physical(t: Template, id: string, attr: string | undefined): string {
  const r = t.Resources[id];
  if (!r) throw new Error(`unknown resource ${id}`);
  const p = r.Properties ?? {};
  const { partition: pa, region: rg, account: ac } = ENV;
  const name = (key: string) => (p[key] === undefined ? id : resolve(t, p[key]));
  switch (`${r.Type}#${attr ?? 'Ref'}`) {
    case 'AWS::SNS::Topic#Ref': return `arn:${pa}:sns:${rg}:${ac}:${name('TopicName')}`;
    case 'AWS::KMS::Key#Arn': return `arn:${pa}:kms:${rg}:${ac}:key/${id}`;
    case 'AWS::IAM::Role#Arn': return `arn:${pa}:iam::${ac}:role/${name('RoleName')}`;
    case 'AWS::S3::Bucket#Ref': return name('BucketName');
    case 'AWS::S3::Bucket#Arn': return `arn:${pa}:s3:::${name('BucketName')}`;
    case 'AWS::Lambda::Function#Ref': return name('FunctionName');
    default: throw new Error(`policy.ts cannot resolve ${r.Type} ${attr ?? 'Ref'}`);
  }
}

/** An intrinsic-function value of the template as the string it becomes at deploy time. */
export function resolve(t: Template, v: Json): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    if ('Ref' in v) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': ENV.partition, 'AWS::Region': ENV.region, 'AWS::AccountId': ENV.account, 'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[v.Ref] ?? physical(t, v.Ref, undefined);
    }
    if ('Fn::GetAtt' in v) return physical(t, v['Fn::GetAtt'][0], v['Fn::GetAtt'][1]);
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as Json[]).map((x) => resolve(t, x)).join(v['Fn::Join'][0]);
  }
  throw new Error(`policy.ts cannot resolve ${JSON.stringify(v)}`);
}

/** IAM wildcard match (`*`, `?`); `ci` for actions, which are case-insensitive. */
function glob(pattern: string, value: string, ci = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ci ? 'i' : '').test(value);
}

function principalMatches(t: Template, principal: Json, req: Request): boolean {
  if (principal === '*' || principal?.AWS === '*') return true;
  const services = list(principal?.Service ?? []).map((s: Json) => resolve(t, s));
  if (req.service && services.includes(req.service)) return true;
  for (const a of list(principal?.AWS ?? []).map((x: Json) => resolve(t, x))) {
    if (!req.arn) continue;
    // The account root in a resource policy delegates to the account's IAM policies.
    if (a === req.arn || a === `arn:${ENV.partition}:iam::${req.arn.split(':')[4]}:root`) return true;
  }
  return false;
}

function conditionsHold(t: Template, cond: Statement['Condition'], ctx: Record<string, string>): boolean {
  for (const [op, kv] of Object.entries(cond ?? {})) {
    for (const [key, raw] of Object.entries(kv)) {
      const want = list(raw).map((x: Json) => resolve(t, x));
      const have = ctx[key];
      if (have === undefined) return false;
      const ok = {
        StringEquals: () => want.includes(have),
        ArnEquals: () => want.includes(have),
        StringLike: () => want.some((w) => glob(w, have)),
        ArnLike: () => want.some((w) => glob(w, have)),
        Bool: () => want.includes(have),
      }[op];
      if (!ok) throw new Error(`policy.ts does not model condition operator ${op}`);
      if (!ok()) return false;
    }
  }
  return true;
}

function matches(t: Template, s: Statement, req: Request, resourcePolicy: boolean): boolean {
  for (const k of ['NotAction', 'NotResource', 'NotPrincipal']) {
    if (k in s) throw new Error(`policy.ts does not model ${k}`);
  }
  if (resourcePolicy && !principalMatches(t, s.Principal, req)) return false;
  if (!list(s.Action).some((a) => glob(a, req.action, true))) return false;
  if (!list(s.Resource).map((r) => resolve(t, r)).some((r) => glob(r, req.resource))) return false;
  return conditionsHold(t, s.Condition, { 'aws:SecureTransport': 'true', ...req.context });
}

/** Evaluates `req` against identity (`resourcePolicy` false) or resource policy statements. */
export function decide(t: Template, statements: Statement[], req: Request, resourcePolicy: boolean): Decision {
  const hits = statements.filter((s) => matches(t, s, req, resourcePolicy));
  if (hits.some((s) => s.Effect === 'Deny')) return 'Deny';
  return hits.some((s) => s.Effect === 'Allow') ? 'Allow' : 'ImplicitDeny';
}
