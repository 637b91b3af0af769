// Records a checkov suppression on the CloudFormation resource itself
// (`Metadata.checkov.skip`), so the reason travels with the template.
import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface Skip {
  readonly id: string;
  readonly comment: string;
}

export function skipCheckov(construct: IConstruct, ...skips: Skip[]): void {
  const cfn = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(cfn instanceof CfnResource)) {
    throw new Error(`skipCheckov: ${construct.node.path} has no CloudFormation resource`);
  }
  for (const s of skips) {
    if (!/^CKV2?_AWS_\d+$/.test(s.id) || s.comment.trim() === '') {
      throw new Error(`skipCheckov: ${s.id} needs a check id and a reason`);
    }
  }
  const existing = (cfn.getMetadata('checkov') as { skip?: Skip[] } | undefined)?.skip ?? [];
  cfn.addMetadata('checkov', { skip: [...existing, ...skips] });
}

/** Suppressions shared by every Lambda function in this stack. */
export const LAMBDA_COMMON_SKIPS: Skip[] = [
  { id: 'CKV_AWS_117', comment: 'No VPC resources are used: functions reach AWS APIs over public endpoints; a VPC would add NAT cost and cold-start latency for no isolation gain.' },
];
