import { createHash } from 'crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { isDispatchError, PermanentError, RetryableError } from './errors';
import type { BatchContext, Launcher, LaunchRequest } from './launcher';
import { MAX_EXECUTION_INPUT_BYTES, WorkflowTargetConfig } from '../../contract/dispatch-config';
import type { WorkflowInput } from '../../contract/job';
import { NAME_PREFIX } from '../../contract/names';
import { errorText } from '../../internal/runtime/log';

/**
 * Starts an execution named `name` (Step Functions keeps names unique per
 * state machine for 90 days); resolves to 'already-started' when one of that
 * name exists.
 */
export type StartExecution = (stateMachineArn: string, name: string, input: string) => Promise<'started' | 'already-started'>;

/** The execution name of a job: deterministic, so a redelivered event cannot start a second execution. */
export function executionName(jobId: string): string {
  return `${NAME_PREFIX}${createHash('sha256').update(jobId, 'utf8').digest('hex')}`;
}

/** One execution per job, named after the job id; an existing execution of that name means it started before. */
export class WorkflowLauncher implements Launcher {
  constructor(private readonly target: WorkflowTargetConfig, private readonly startExecution: StartExecution) {}

  public async launch(request: LaunchRequest, context: BatchContext): Promise<string[]> {
    const inputs = request.jobs.map((job) => {
      const workflowInput: WorkflowInput = { job: { id: job.id, source: job.source, fields: job.fields, event: job.event } };
      const input = JSON.stringify(workflowInput);
      const size = Buffer.byteLength(input, 'utf8');
      if (size > MAX_EXECUTION_INPUT_BYTES) {
        throw new PermanentError(`workflow input is ${size} bytes, over the Step Functions limit of ${MAX_EXECUTION_INPUT_BYTES}: `
          + 'keep large payloads in S3 and send their URI');
      }
      return { job, input, name: executionName(job.id) };
    });
    const results = await Promise.allSettled(inputs.map(async ({ job, input, name }) => {
      const result = await this.startExecution(this.target.stateMachineArn, name, input);
      context.log('INFO', result === 'started' ? 'workflow started' : 'workflow already started', { jobId: job.id, executionName: name });
    }));
    const failed = results.flatMap((r, i) => r.status === 'rejected' ? [`job ${inputs[i].job.id}: ${errorText(r.reason, isDispatchError)}`] : []);
    if (failed.length > 0) {
      context.countFailure('error');
      throw new RetryableError(failed.join('; '));
    }
    return request.jobs.map((j) => j.id);
  }
}

/**
 * StartExecution through the SFN client. Step Functions answers a name that
 * exists (within 90 days) with `ExecutionAlreadyExists` when the execution is
 * closed or its input differs, and with the original response when it is
 * still running with the same input: both mean the job's workflow started.
 */
export function sfnStartExecution(client: SFNClient): StartExecution {
  return async (stateMachineArn, name, input) => {
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn, name, input }));
      return 'started';
    } catch (e) {
      if ((e as Error)?.name === 'ExecutionAlreadyExists') return 'already-started';
      throw e;
    }
  };
}
