import { randomUUID } from 'crypto';
import type { JobLedgerStore } from './ledger';
import type { LogFn } from './log';
import { arrayCompleted, JobStatus, LedgerRecord } from '../../contract/ledger';

/** The detail of an `Array Job Completed` event. */
export interface ArrayCompletedDetail {
  readonly arrayJobId: string;
  readonly dispatcher: string;
  /** SUCCEEDED when every child succeeded; FAILED otherwise. */
  readonly status: JobStatus.SUCCEEDED | JobStatus.FAILED;
  readonly size: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Children never launched because the parent had failed (`ArrayFailurePolicy.FAIL_PARENT`). */
  readonly cancelled: number;
  readonly enqueuedAt?: string;
  readonly completedAt: string;
}

/** What a completion check did: published it, found it not due (children left) or sent, or found it being published by another caller. */
export type CompletionCheck = 'published' | 'not-due' | 'sent' | 'claimed-elsewhere';

/**
 * Publishes an array job's completion once all its children are done. The
 * caller claims it in the ledger for a minute under a name of its own
 * (`by` and a random suffix: two deliveries of the same event are two
 * callers), publishes, then marks it sent. A publish that fails releases
 * the claim; a caller that died holding it is succeeded when the minute
 * ends. 'claimed-elsewhere' asks the caller to look again later (its
 * message comes back), so the event is neither lost nor sent twice.
 */
export async function completeArrayIfDone(ledger: JobLedgerStore, key: string, parent: LedgerRecord | undefined, by: string,
  publish: (detail: ArrayCompletedDetail) => Promise<void>, log: LogFn): Promise<CompletionCheck> {
  if (!parent || !arrayCompleted(parent)) return 'not-due';
  if (parent.completionSent) return 'sent';
  const failed = parent.childrenFailed ?? 0;
  const cancelled = parent.childrenCancelled ?? 0;
  const status = failed + cancelled === 0 ? JobStatus.SUCCEEDED : JobStatus.FAILED;
  const claimant = `${by}#${randomUUID()}`;
  if (!await ledger.claimCompletion(key, claimant, status)) {
    const now = await ledger.get(key);
    return now?.completionSent ? 'sent' : 'claimed-elsewhere';
  }
  const detail: ArrayCompletedDetail = {
    arrayJobId: parent.jobId,
    dispatcher: parent.dispatcher,
    status,
    size: parent.arraySize!,
    succeeded: parent.childrenSucceeded ?? 0,
    failed,
    cancelled,
    ...(parent.enqueuedAt !== undefined ? { enqueuedAt: new Date(parent.enqueuedAt).toISOString() } : {}),
    completedAt: new Date().toISOString(),
  };
  try {
    await publish(detail);
  } catch (e) {
    await ledger.releaseCompletion(key, claimant).catch(() => undefined);
    throw e;
  }
  await ledger.markCompletionSent(key, claimant);
  log(status === JobStatus.SUCCEEDED ? 'INFO' : 'ERROR', 'array job completed', { ...detail });
  return 'published';
}
