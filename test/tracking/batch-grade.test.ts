import { JobOutcome } from '../../src/contract/job';
import type { RetryRuleConfig } from '../../src/contract/tracker-config';
import { RetryAction, RetryRule } from '../../src/tracking/retry-rule';
import { globMatches } from '../../src/tracking/runtime/retry';
import { s3Record } from '../dispatch/runtime/fixtures';
import { Rig } from '../harness/rig';
import { shippedTracker, Stop } from '../harness/shipped-tracker';

/**
 * Retry rules and start timeouts, end to end through the shipped dispatcher
 * and tracker bundles against the fakes: which runs launch, what the
 * ledger item and the outcome event say, what reaches the failed-jobs queue.
 */
let r: Rig;
beforeEach(async () => {
  r = await Rig.start({ bundle: true, config: { tracking: true }, queue: { msPerSecond: 5 } });
});
afterEach(() => r.close());

const rules = (...list: RetryRule[]): RetryRuleConfig[] => list.map((x) => x._toConfig());
const EXIT = (exitCode: number): Stop => ({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode });
const SPOT: Stop = { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' };
const PULL: Stop = { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' };
const running = () => r.fake.tasks.filter((t) => !t.stopped);
const failedJobs = () => r.fake.messages.filter((m) => m.queueUrl === r.fake.queueUrl('failed-jobs')).map((m) => JSON.parse(m.body).failure);
const ledgerItem = () => {
  const [item] = r.fake.dynamo.items('jobs');
  return Object.fromEntries(Object.entries(item).map(([k, v]: [string, any]) => [k, v.S ?? (v.N !== undefined ? Number(v.N) : v.BOOL ?? v)]));
};

/** Launches one job, then stops each of its runs in turn as `stops` says; returns the runs launched. */
async function runJob(tracker: ReturnType<typeof shippedTracker>, stops: Stop[]): Promise<number> {
  r.queue.send(JSON.stringify({ Records: [s3Record('in/job.csv')] }));
  await r.queue.drain(r.handler);
  for (const stop of stops) {
    const [task] = running();
    if (!task) break;
    await tracker.stop(task.taskArn, stop);
    await r.queue.drain(r.handler);
  }
  return r.fake.tasks.length;
}

describe('retry rules', () => {
  test('onExitCode(137) retries a job killed for memory; the rule is in the ledger and the retry reason', async () => {
    const tracker = shippedTracker(r, { retryRules: rules(RetryRule.onExitCode(137)) });
    expect(await runJob(tracker, [EXIT(137), EXIT(0)])).toBe(2);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.run, e.Detail.retryRule])).toEqual([['Job Succeeded', 2, undefined]]);
    const retry = r.fake.messages.find((m) => m.queueUrl === r.config.dispatchQueueUrl && m.body.includes('"relaunch"'));
    expect(JSON.parse(retry!.body).hc.reason).toBe(
      "retry 1 of 2 after FAILED: essential container 'job' exited with 137 (rule onExitCode(137) -> RETRY)");
    // The run that succeeded matched no rule: none is left from run 1.
    expect(ledgerItem()).toMatchObject({ status: 'SUCCEEDED', outcomeRun: 2 });
    expect(ledgerItem().retryRule).toBeUndefined();
  });

  test('onExitCode(137) does not match exit 1: FAILED is not retryable, so the job fails at once', async () => {
    const tracker = shippedTracker(r, { retryRules: rules(RetryRule.onExitCode(137)) });
    expect(await runJob(tracker, [EXIT(1)])).toBe(1);
    expect(failedJobs()).toEqual([expect.objectContaining({ outcome: 'FAILED', exitCode: 1, run: 1 })]);
    expect(failedJobs()[0].retryRule).toBeUndefined();
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.outcome, e.Detail.retryRule])).toEqual([['Job Failed', 'FAILED', undefined]]);
  });

  test("onReason('*Spot*', EXIT) gives up on a Spot interruption that is retryable by default", async () => {
    const tracker = shippedTracker(r, { retryRules: rules(RetryRule.onReason('*Spot*', RetryAction.EXIT)) });
    expect(await runJob(tracker, [SPOT])).toBe(1);
    const rule = "onReason('*Spot*') -> EXIT";
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.outcome, e.Detail.retryRule])).toEqual([['Job Failed', 'INTERRUPTED', rule]]);
    expect(failedJobs()).toEqual([expect.objectContaining({ outcome: 'INTERRUPTED', retryRule: rule })]);
    expect(ledgerItem()).toMatchObject({ status: 'FAILED', outcome: 'INTERRUPTED', retryRule: rule });
  });

  test("onReason('*Spot*', EXIT) does not match an image pull failure, which is retried by default", async () => {
    const tracker = shippedTracker(r, { retryRules: rules(RetryRule.onReason('*Spot*', RetryAction.EXIT)) });
    expect(await runJob(tracker, [PULL, EXIT(0)])).toBe(2);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.run])).toEqual([['Job Succeeded', 2]]);
  });

  test('rules are evaluated in order: onExitCode(2, EXIT) before onOutcome(FAILED)', async () => {
    const config = { retryRules: rules(RetryRule.onExitCode(2, RetryAction.EXIT), RetryRule.onOutcome(JobOutcome.FAILED)) };
    const tracker = shippedTracker(r, config);
    expect(await runJob(tracker, [EXIT(3), EXIT(2)])).toBe(2);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.run, e.Detail.exitCode, e.Detail.retryRule])).toEqual([
      ['Job Failed', 2, 2, 'onExitCode(2) -> EXIT'],
    ]);
  });

  test('a rule that keeps matching is still bounded by retryAttempts', async () => {
    const tracker = shippedTracker(r, { retryAttempts: 2, retryRules: rules(RetryRule.onOutcome(JobOutcome.FAILED)) });
    expect(await runJob(tracker, [EXIT(1), EXIT(1), EXIT(1), EXIT(1)])).toBe(3);
    expect(failedJobs()).toEqual([expect.objectContaining({ run: 3, retryRule: 'onOutcome(FAILED) -> RETRY' })]);
  });

  test('globs: * stands for any characters, the whole reason must match', () => {
    expect(globMatches('*Spot*', 'Your Spot Task was interrupted.')).toBe(true);
    expect(globMatches('Spot*', 'Your Spot Task was interrupted.')).toBe(false);
    expect(globMatches('CannotPull*', 'CannotPullContainerError: x')).toBe(true);
    expect(globMatches('a*b*a', 'aba')).toBe(true);
    expect(globMatches('a*b*a', 'ab')).toBe(false);
    expect(globMatches('exact', 'exact')).toBe(true);
    expect(globMatches('exact', 'exactly')).toBe(false);
  });
});

describe('start timeout', () => {
  test('a task stuck in PROVISIONING past the start timeout is stopped, classified START_TIMED_OUT and retried; a running task is left alone', async () => {
    const tracker = shippedTracker(r, { startTimeoutSeconds: 600 });
    r.fake.stuckStarts = 1;
    r.queue.send(JSON.stringify({ Records: [s3Record('in/stuck.csv'), s3Record('in/fine.csv')] }));
    await r.queue.drain(r.handler);
    const [stuck, fine] = r.fake.tasks;
    expect([stuck.running, fine.running]).toEqual([false, true]);
    // 9 minutes: not yet.
    stuck.createdAt -= 9 * 60_000;
    fine.createdAt -= 20 * 60_000;
    fine.startedAt -= 20 * 60_000;
    await tracker.sweep();
    expect(r.fake.stopped).toEqual([]);
    stuck.createdAt -= 2 * 60_000;
    await tracker.sweep();
    expect(r.fake.stopped).toEqual([{ task: stuck.taskArn, reason: 'cdk-hybrid-compute: job did not start within 600 s (still PROVISIONING)' }]);
    // ECS publishes the stop: UserInitiated with the reason given.
    await tracker.stop(stuck.taskArn, { stopCode: 'UserInitiated', stoppedReason: r.fake.stopped[0].reason! });
    await r.queue.drain(r.handler);
    expect(r.fake.tasks).toHaveLength(3);
    expect(r.fake.tasks[2]).toMatchObject({ jobId: stuck.jobId, running: true });
    const item = r.fake.dynamo.items('jobs').find((i) => i.jobId.S === stuck.jobId)!;
    expect(item.tasks.L.map((t: any) => t.S)).toEqual([stuck.taskArn, r.fake.tasks[2].taskArn]);
    expect(r.logs.filter((l) => l.message === 'job retried').map((l) => [l.outcome, l.nextRun])).toEqual([['START_TIMED_OUT', 2]]);
  });

  test('without a start timeout, a stuck task is left to the run timeout, counted from its creation', async () => {
    const tracker = shippedTracker(r, { timeoutSeconds: 3600 });
    r.fake.stuckStarts = 1;
    r.queue.send(JSON.stringify({ Records: [s3Record('in/stuck.csv')] }));
    await r.queue.drain(r.handler);
    r.fake.tasks[0].createdAt -= 61 * 60_000;
    await tracker.sweep();
    expect(r.fake.stopped.map((s) => s.reason)).toEqual(['cdk-hybrid-compute: job timed out after 3600 s']);
  });

  test('with both, a task that started late is held to the run timeout from its start, not its creation', async () => {
    const tracker = shippedTracker(r, { timeoutSeconds: 3600, startTimeoutSeconds: 3000 });
    r.fake.stuckStarts = 1;
    r.queue.send(JSON.stringify({ Records: [s3Record('in/long.csv')] }));
    await r.queue.drain(r.handler);
    const task = r.fake.tasks[0];
    // Stuck for 45 minutes (under the 50-minute start timeout), then it starts.
    task.createdAt -= 45 * 60_000;
    await tracker.sweep();
    expect(r.fake.stopped).toEqual([]);
    r.fake.startTask(task.taskArn);
    task.startedAt -= 30 * 60_000;
    task.createdAt -= 30 * 60_000;
    // 75 minutes since creation, 30 since the start: within the run timeout.
    await tracker.sweep();
    expect(r.fake.stopped).toEqual([]);
    task.startedAt -= 31 * 60_000;
    await tracker.sweep();
    expect(r.fake.stopped.map((s) => s.reason)).toEqual(['cdk-hybrid-compute: job timed out after 3600 s']);
  });

  test('an exit-code rule does not match a task the tracker stopped: its 137 is the stop signal, not the job', async () => {
    const tracker = shippedTracker(r, { timeoutSeconds: 3600, retryRules: rules(RetryRule.onExitCode(137)) });
    expect(await runJob(tracker, [{ stopCode: 'UserInitiated', stoppedReason: 'cdk-hybrid-compute: job timed out after 3600 s', exitCode: 137 }])).toBe(1);
    expect(r.fake.events.map((e) => [e.DetailType, e.Detail.outcome, e.Detail.retryRule])).toEqual([['Job Failed', 'TIMED_OUT', undefined]]);
  });
});
