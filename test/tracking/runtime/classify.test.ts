import { taskStopped } from './events';
import { JobOutcome } from '../../../src';
import { classify } from '../../../src/tracking/runtime/classify';

const outcomeOf = (...args: Parameters<typeof taskStopped>) => classify(taskStopped(...args).detail, 'job');

describe('classifying stopped tasks', () => {
  test('exit 0 of the essential container: succeeded', () => {
    expect(outcomeOf()).toEqual({ outcome: JobOutcome.SUCCEEDED, reason: 'essential container exited with 0', exitCode: 0 });
  });

  test('exit 0 with a failing sidecar: still succeeded (the job container decides)', () => {
    expect(outcomeOf({ sidecars: [{ name: 'log-router', exitCode: 1, reason: 'fluent-bit crashed' }] }).outcome).toBe(JobOutcome.SUCCEEDED);
  });

  test('a non-zero exit: failed, with the exit code and the container reason', () => {
    expect(outcomeOf({ job: { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' } })).toEqual({
      outcome: JobOutcome.FAILED,
      reason: "essential container 'job' exited with 137: OutOfMemoryError: Container killed due to memory usage",
      exitCode: 137,
    });
  });

  test('a sidecar that exits 0 does not hide a failing job container', () => {
    expect(outcomeOf({ job: { exitCode: 2 }, sidecars: [{ name: 'log-router', exitCode: 0 }] }).outcome).toBe(JobOutcome.FAILED);
  });

  test('Spot interruption: interrupted, whatever the exit code', () => {
    expect(outcomeOf({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.', job: { exitCode: 143 }, capacityProviderName: 'FARGATE_SPOT' }))
      .toEqual({ outcome: JobOutcome.INTERRUPTED, reason: 'SpotInterruption: Your Spot Task was interrupted.', exitCode: 143 });
    expect(outcomeOf({ stopCode: 'TerminationNotice', stoppedReason: 'Task stopped due to termination notice', job: {} }).outcome).toBe(JobOutcome.INTERRUPTED);
  });

  test('image pull failure: failed to start, with the pull error', () => {
    const reason = 'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref public.ecr.aws/x/y:nope: not found';
    expect(outcomeOf({ stopCode: 'TaskFailedToStart', stoppedReason: reason, job: {}, started: false }))
      .toEqual({ outcome: JobOutcome.FAILED_TO_START, reason });
  });

  test('a start failure named only on the container (no TaskFailedToStart code) is still failed to start', () => {
    const reason = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';
    expect(outcomeOf({ stopCode: 'EssentialContainerExited', stoppedReason: 'Task failed to start', job: { reason }, started: false }))
      .toEqual({ outcome: JobOutcome.FAILED_TO_START, reason });
  });

  test('stopped by the tracker for its timeout: timed out', () => {
    expect(outcomeOf({ stopCode: 'UserInitiated', stoppedReason: 'cdk-hybrid-compute: job timed out after 3600 s', job: { exitCode: 143 } }))
      .toEqual({ outcome: JobOutcome.TIMED_OUT, reason: 'cdk-hybrid-compute: job timed out after 3600 s', exitCode: 143 });
  });

  test('stopped by someone else: failed with the exit code', () => {
    expect(outcomeOf({ stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user', job: { exitCode: 143 } }))
      .toMatchObject({ outcome: JobOutcome.FAILED, exitCode: 143 });
  });

  test('no exit code reported: failed, saying so', () => {
    expect(outcomeOf({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', job: {} })).toEqual({
      outcome: JobOutcome.FAILED, reason: 'EssentialContainerExited without an exit code: Essential container in task exited',
    });
  });

  test('the job container missing from the event: failed, naming it', () => {
    expect(outcomeOf({ job: null, sidecars: [{ name: 'log-router', exitCode: 0 }] })).toEqual({
      outcome: JobOutcome.FAILED,
      reason: "essential container 'job' is not in the task (EssentialContainerExited: Essential container in task exited)",
    });
  });
});
