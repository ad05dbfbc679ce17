import { Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag rules on a construct (and everything under it) in the
 * metadata that CDK's `Validations.acknowledge()` writes and cdk-nag 3 reads.
 * The library needs no dependency on cdk-nag, and consumers who run it see
 * only findings about their own choices. Every acknowledgment carries the
 * specific reason.
 *
 * The metadata is written directly because `Validations.acknowledge()` (CDK
 * 2.257) rejects ids with more than one `::`, and every finding about an ARN
 * (`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:…]`) has several.
 */
export function acknowledgeNag(construct: IConstruct, acks: Array<{ id: string; reason: string }>): void {
  const recorded = new Set(construct.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.keys(m.data ?? {})));
  const data: Record<string, string> = {};
  for (const ack of acks) {
    if (!ack.reason || ack.reason.length < 20) {
      throw new Error(`acknowledgment of ${ack.id} needs a specific reason`);
    }
    // Several S3Sources in a stack, or repeated synths, acknowledge the same finding again.
    if (!recorded.has(ack.id)) data[ack.id] = ack.reason;
  }
  if (Object.keys(data).length > 0) {
    construct.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, data, { stackTrace: false });
  }
}

/** Rules of `NIST80053R5Checks` that `HIPAASecurityChecks` does not have. */
const NIST_ONLY_RULES = new Set(['ALBWAFEnabled']);

/** The ids of a rule of the NIST 800-53 R5 and HIPAA Security packs (`CloudWatchLogGroupEncrypted` → both pack ids). */
export function complianceRuleIds(rule: string): string[] {
  return [`NIST.800.53.R5-${rule}`, ...(NIST_ONLY_RULES.has(rule) ? [] : [`HIPAA.Security-${rule}`])];
}

/**
 * Acknowledges rules of the `NIST80053R5Checks` and `HIPAASecurityChecks`
 * packs on a construct the library created, each with its reason (the same
 * reason for both packs: the rules are the same check).
 */
export function acknowledgeCompliance(construct: IConstruct, acks: Array<{ rule: string; reason: string }>): void {
  acknowledgeNag(construct, acks.flatMap((a) => complianceRuleIds(a.rule).map((id) => ({ id, reason: a.reason }))));
}

/** A reason's first letter in upper case ("the dispatcher function of …" starts a sentence). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A wildcard this library grants on purpose, and why. */
export interface WildcardReason {
  /** Whether a statement's (flattened) resource is this wildcard. */
  readonly matches: (resource: string, actions: string[]) => boolean;
  readonly reason: string;
}

/** X-Ray's `*`: tracing on a Lambda function or state machine grants it. */
export const XRAY_WILDCARD: WildcardReason = {
  matches: (resource, actions) => resource === '*' && actions.every((a) => a.startsWith('xray:')),
  reason: 'X-Ray trace and sampling actions (PutTraceSegments, PutTelemetryRecords, GetSampling*) do not support resource-level permissions.',
};

/**
 * Acknowledges `AwsSolutions-IAM5[Resource::…]` findings on an IAM policy for
 * exactly the wildcard resources that `reasons` explain. The finding ids are
 * computed at validation time from the final policy document (after every
 * grant), flattened the way cdk-nag flattens them, so nothing else is covered.
 */
export function acknowledgeWildcardResources(policy: IConstruct, reasons: WildcardReason[]): void {
  policy.node.addValidation({
    validate: () => {
      const cfn = policy instanceof CfnPolicy ? policy : policy.node.tryFindChild('Resource');
      if (!(cfn instanceof CfnPolicy)) return [];
      const doc = Stack.of(cfn).resolve(cfn.policyDocument);
      for (const statement of doc?.Statement ?? []) {
        if (statement.Effect !== 'Allow') continue;
        const actions = toArray(statement.Action);
        for (const resource of toArray(statement.Resource).map(flattenCfnReference)) {
          if (!resource.includes('*')) continue;
          const why = reasons.find((r) => r.matches(resource, actions));
          if (why) {
            acknowledgeNag(cfn, [{ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason: why.reason }]);
          }
        }
      }
      return [];
    },
  });
}

function toArray(v: unknown): any[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The string cdk-nag reports for a resource: `<Logical.Attr>`, `<Ref>`, joins flattened. */
export function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = node as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenCfnReference(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenCfnReference(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenCfnReference(o.Ref)}>`;
  return JSON.stringify(node);
}
