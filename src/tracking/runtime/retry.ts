import type { Classification } from './classify';
import { JobOutcome } from '../../contract/job';
import type { RetryRuleConfig, TrackerConfig } from '../../contract/tracker-config';

/** Whether `text` matches `pattern`, where `*` stands for any characters (whole string, case-sensitive). */
export function globMatches(pattern: string, text: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === text;
  if (!text.startsWith(parts[0]) || !text.endsWith(parts[parts.length - 1])) return false;
  let pos = parts[0].length;
  const end = text.length - parts[parts.length - 1].length;
  for (const part of parts.slice(1, -1)) {
    const at = text.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return pos <= end;
}

/** The reasons a rule's pattern is compared with: the task's, the essential container's, the classification's. */
export function reasonsOf(detail: any, containerName: string, c: Classification): string[] {
  const container = (Array.isArray(detail?.containers) ? detail.containers : []).find((x: any) => x?.name === containerName);
  return [detail?.stoppedReason, container?.reason, c.reason].filter((r): r is string => typeof r === 'string' && r !== '');
}

/** Outcomes of tasks the tracker stopped itself: their exit code is the stop signal's (137, 143), not the job's. */
const STOPPED_BY_TRACKER: ReadonlyArray<string> = [JobOutcome.TIMED_OUT, JobOutcome.START_TIMED_OUT];

function matches(rule: RetryRuleConfig, c: Classification, reasons: string[]): boolean {
  switch (rule.kind) {
    case 'exitCode': return c.exitCode !== undefined && String(c.exitCode) === rule.value && !STOPPED_BY_TRACKER.includes(c.outcome);
    case 'outcome': return c.outcome === rule.value;
    default: return reasons.some((r) => globMatches(rule.value, r));
  }
}

/** Whether a stopped run is run again, and the rule that decided (none: `retryableOutcomes` did). */
export interface RetryDecision {
  readonly retry: boolean;
  /** The description of the rule that matched. */
  readonly rule?: string;
}

/**
 * Decides whether run `run` of a job, stopped as `c`, is run again: never
 * after success; the first matching retry rule decides, else whether the
 * outcome is in `retryableOutcomes`; a retry needs a run left under
 * `retryAttempts` and a queue to send it to.
 */
export function retryDecision(config: TrackerConfig, c: Classification, reasons: string[], run: number): RetryDecision {
  if (c.outcome === JobOutcome.SUCCEEDED) return { retry: false };
  const rule = (config.retryRules ?? []).find((r) => matches(r, c, reasons));
  const wanted = rule ? rule.action === 'retry' : config.retryableOutcomes.includes(c.outcome);
  const retry = wanted && run <= config.retryAttempts && !!config.dispatchQueueUrl;
  return { retry, ...(rule ? { rule: rule.description } : {}) };
}
