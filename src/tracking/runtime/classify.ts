import { JobOutcome } from '../../contract/job';
import { START_TIMEOUT_REASON_PREFIX, TIMEOUT_REASON_PREFIX } from '../../contract/names';

/** The parts of an `ECS Task State Change` event's container the tracker reads. */
export interface EventContainer {
  readonly name?: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly lastStatus?: string;
}

export interface Classification {
  readonly outcome: JobOutcome;
  readonly reason: string;
  /** Exit code of the essential container, when it has one. */
  readonly exitCode?: number;
}

/** Errors that mean the container never ran (ECS "stopped tasks errors"). */
const START_FAILURE = /\b(CannotPullContainerError|CannotStartContainerError|CannotCreateContainerError|CannotInspectContainerError|ResourceInitializationError|CannotCreateVolumeError|ContainerRuntimeError|ContainerRuntimeTimeoutError|InternalError: failed to start)/;

/**
 * Classifies a stopped task from `stopCode`, `stoppedReason` and the exit
 * code of the job's essential container (the event does not mark which
 * containers are essential: the job's own container is named in the config).
 */
export function classify(detail: any, containerName: string): Classification {
  const stopCode = typeof detail?.stopCode === 'string' ? detail.stopCode : '';
  const stoppedReason = typeof detail?.stoppedReason === 'string' ? detail.stoppedReason : '';
  const containers: EventContainer[] = Array.isArray(detail?.containers) ? detail.containers : [];
  const essential = containers.find((c) => c?.name === containerName);
  const exitCode = typeof essential?.exitCode === 'number' ? essential.exitCode : undefined;
  const containerReason = typeof essential?.reason === 'string' ? essential.reason : '';

  if (stopCode === 'SpotInterruption' || stopCode === 'TerminationNotice') {
    return { outcome: JobOutcome.INTERRUPTED, reason: `${stopCode}: ${stoppedReason || 'capacity reclaimed'}`, exitCode };
  }
  if (stopCode === 'UserInitiated' && stoppedReason.startsWith(START_TIMEOUT_REASON_PREFIX)) {
    return { outcome: JobOutcome.START_TIMED_OUT, reason: stoppedReason };
  }
  if (stopCode === 'UserInitiated' && stoppedReason.startsWith(TIMEOUT_REASON_PREFIX)) {
    return { outcome: JobOutcome.TIMED_OUT, reason: stoppedReason, exitCode };
  }
  if (stopCode === 'TaskFailedToStart' || START_FAILURE.test(stoppedReason) || START_FAILURE.test(containerReason)) {
    return { outcome: JobOutcome.FAILED_TO_START, reason: containerReason || stoppedReason || stopCode };
  }
  if (exitCode === 0) {
    return { outcome: JobOutcome.SUCCEEDED, reason: 'essential container exited with 0', exitCode };
  }
  if (exitCode !== undefined) {
    return {
      outcome: JobOutcome.FAILED,
      reason: `essential container '${containerName}' exited with ${exitCode}${containerReason ? `: ${containerReason}` : ''}`,
      exitCode,
    };
  }
  if (!essential) {
    return { outcome: JobOutcome.FAILED, reason: `essential container '${containerName}' is not in the task (${stopCode || 'stopped'}: ${stoppedReason})` };
  }
  return { outcome: JobOutcome.FAILED, reason: `${stopCode || 'stopped'} without an exit code: ${containerReason || stoppedReason || 'no reason given'}` };
}
