/**
 * The contract of a routing dispatcher (`DispatchTarget.route()`): its
 * config, what a Lambda worker receives, and how its outcome comes back
 * (Lambda's asynchronous invocation record, sent by the function's
 * destinations to the dispatch queue). Plain types and values only.
 */
import type { Job } from './job';

/** Version of the `hc` member of a Lambda worker's event. */
export const LAMBDA_JOB_VERSION = 1;

/**
 * Largest event the dispatcher sends a Lambda worker: Lambda takes 1 MB
 * asynchronously, but the invocation record its destination sends back
 * carries the event and must fit an SQS message (256 KiB) with room for the
 * response. A larger job goes through the claim check (`payloadUri`).
 */
export const MAX_LAMBDA_EVENT_BYTES = 200 * 1024;

/**
 * The event a Lambda worker receives (README, "The Lambda worker's event"):
 * the job itself, or the URI of its claim-check document
 * (`{ "version": 1, "job": {...} }`) when it is too large.
 */
export interface LambdaJobEvent {
  readonly hc: {
    readonly version: number;
    readonly dispatcher: string;
    readonly jobId: string;
    /** The run this invocation is (1 = first). */
    readonly run: number;
    /** The ledger attempt this invocation was reserved as. */
    readonly attempt: number;
    readonly compute: 'lambda';
    /** Why the job was routed to this function. */
    readonly route: string;
    /** The RunTask overrides the job runs with if it spills over to Fargate (computed at routing). */
    readonly spillover?: { readonly overrides?: { readonly containerOverrides: any[] } };
  };
  readonly job?: Job;
  readonly payloadUri?: string;
}

/**
 * The `errorType` a worker throws to hand its job to the Fargate target
 * (a limit it declares itself: input too large, work too long): see
 * README, "Spillover". Any error whose `name` is this spills over.
 */
export const SPILLOVER_ERROR_TYPE = 'SpilloverRequested';

/** Lambda's asynchronous invocation record (what an on-success / on-failure destination receives). */
export interface InvocationRecord {
  readonly version?: string;
  readonly timestamp?: string;
  readonly requestContext: {
    readonly requestId?: string;
    readonly functionArn?: string;
    /** `Success`, `RetriesExhausted` or `EventAgeExceeded`. */
    readonly condition?: string;
    readonly approximateInvokeCount?: number;
  };
  readonly requestPayload: LambdaJobEvent;
  readonly responseContext?: { readonly statusCode?: number; readonly functionError?: string };
  readonly responsePayload?: unknown;
}

/** How a Lambda run ended, and whether the job may spill over to Fargate. */
export interface LambdaOutcome {
  readonly succeeded: boolean;
  /** Timed out, ran out of memory, was too old to run, or asked to spill: Lambda could not finish it. */
  readonly spillable: boolean;
  /** `timeout`, `out-of-memory`, `event-age`, `requested`, `error` or `success`. */
  readonly cause: string;
  readonly reason: string;
}

/** Classifies an invocation record; Lambda documents the record loosely, so every known spelling counts. */
export function classifyInvocation(record: InvocationRecord): LambdaOutcome {
  const condition = record.requestContext.condition ?? '';
  const response = record.responsePayload;
  const errorType = typeof (response as any)?.errorType === 'string' ? (response as any).errorType as string : '';
  const errorMessage = typeof (response as any)?.errorMessage === 'string' ? (response as any).errorMessage as string
    : typeof response === 'string' ? response : '';
  const functionError = record.responseContext?.functionError;
  if (condition === 'Success' && !functionError) {
    return { succeeded: true, spillable: false, cause: 'success', reason: 'the function returned' };
  }
  const detail = [errorType, errorMessage].filter((s) => s !== '').join(': ').slice(0, 500) || condition || 'no error details';
  if (condition === 'EventAgeExceeded') {
    return { succeeded: false, spillable: true, cause: 'event-age', reason: `Lambda did not run the event before its maximum age (${detail})` };
  }
  if (errorType === 'Sandbox.Timedout' || /task timed out after/i.test(errorMessage)) {
    return { succeeded: false, spillable: true, cause: 'timeout', reason: `the function timed out (${detail})` };
  }
  if (errorType === 'Runtime.OutOfMemory' || /out of memory|signal: killed|JavaScript heap out of memory/i.test(errorMessage)) {
    return { succeeded: false, spillable: true, cause: 'out-of-memory', reason: `the function ran out of memory (${detail})` };
  }
  if (errorType === SPILLOVER_ERROR_TYPE) {
    return { succeeded: false, spillable: true, cause: 'requested', reason: `the function asked to spill over (${detail})` };
  }
  return { succeeded: false, spillable: false, cause: 'error', reason: `the function failed (${detail})` };
}

/** Whether a parsed message body is a Lambda invocation record of a routed job. */
export function isInvocationRecord(body: unknown): body is InvocationRecord {
  const b = body as any;
  return typeof b === 'object' && b !== null && typeof b.requestContext === 'object' && b.requestContext !== null
    && typeof b.requestPayload === 'object' && b.requestPayload !== null && typeof b.requestPayload.hc === 'object'
    && b.requestPayload.hc !== null && b.requestPayload.hc.compute === 'lambda';
}
