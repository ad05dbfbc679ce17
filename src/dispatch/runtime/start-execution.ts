import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StartExecution } from './dispatcher';

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
