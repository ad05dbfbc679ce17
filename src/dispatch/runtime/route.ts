import { resolveTemplate } from './input-mapping';
import type { RouteRuleConfig } from '../../contract/dispatch-config';
import { Job, JobSourceType } from '../../contract/job';

/** Where a job goes, and why (logged and counted). */
export interface RouteDecision {
  /** Index into the route's destinations. */
  readonly destination: number;
  readonly reason: string;
}

/**
 * A job's size for `sizeBelow` rules: the S3 object's size, or the bytes of
 * an SQS body or an EventBridge detail; undefined when unknown (an S3 event
 * without a size, such as a delete).
 */
export function jobSize(job: Job): number | undefined {
  switch (job.source) {
    case JobSourceType.S3: {
      const raw = job.fields['s3.size'];
      const size = raw === undefined || raw === '' ? NaN : Number(raw);
      return Number.isFinite(size) && size >= 0 ? size : undefined;
    }
    case JobSourceType.SQS:
      return job.fields['sqs.body'] === undefined ? undefined : Buffer.byteLength(job.fields['sqs.body'], 'utf8');
    case JobSourceType.EVENTBRIDGE:
      return job.fields['eventbridge.detail'] === undefined ? undefined : Buffer.byteLength(job.fields['eventbridge.detail'], 'utf8');
    default:
      return undefined;
  }
}

function matches(rule: RouteRuleConfig, job: Job): boolean {
  switch (rule.kind) {
    case 'sizeBelow': {
      const size = jobSize(job);
      return size !== undefined && size < rule.bytes!;
    }
    case 'keyPrefix':
      return job.source === JobSourceType.S3 && (job.fields['s3.key'] ?? '').startsWith(rule.value!);
    case 'keySuffix':
      return job.source === JobSourceType.S3 && (job.fields['s3.key'] ?? '').endsWith(rule.value!);
    case 'fieldEquals':
      try {
        return resolveTemplate(rule.field!, job) === rule.value;
      } catch {
        return false; // a field the job does not carry: the rule does not apply
      }
    default:
      return false;
  }
}

function describe(rule: RouteRuleConfig, index: number): string {
  switch (rule.kind) {
    case 'sizeBelow': return `rule ${index}: size below ${rule.bytes} bytes`;
    case 'keyPrefix': return `rule ${index}: key starts with '${rule.value}'`;
    case 'keySuffix': return `rule ${index}: key ends with '${rule.value}'`;
    case 'fieldEquals': return `rule ${index}: ${rule.field} is '${rule.value}'`;
    default: return `rule ${index}`;
  }
}

/** The first rule that matches picks the destination; no match, `otherwise`. */
export function decideRoute(job: Job, rules: readonly RouteRuleConfig[], otherwise: number): RouteDecision {
  for (let i = 0; i < rules.length; i++) {
    if (matches(rules[i], job)) return { destination: rules[i].destination, reason: describe(rules[i], i) };
  }
  return { destination: otherwise, reason: 'no rule matched' };
}
