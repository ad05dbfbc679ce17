/**
 * Every name the library puts into another system, in one place.
 *
 * The rule (README, "Naming"): machine-matched identifiers carry the prefix
 * `hc`, spelled the way the receiving system spells names — `HC_` for
 * environment variables, `hc-` for names and SQS message attributes, `hc:`
 * for tag keys, `hc` as the top-level member of messages the library
 * enqueues. The package name `cdk-hybrid-compute` appears only where people
 * read a brand: the `source` of the events it publishes, the CloudWatch
 * namespace, stop reasons, and warning ids (`@cdk-hybrid-compute/<file>:<id>`).
 *
 * Plain values only: constructs, handlers and tests all import this file.
 */

/** The package name, used where people read it. */
export const BRAND = 'cdk-hybrid-compute';

/** CloudWatch namespace of every metric the handlers emit (EMF). */
export const METRIC_NAMESPACE = BRAND;

/** `source` of the events the library publishes (outcomes, workflow failures). */
export const EVENT_SOURCE = BRAND;
export const DETAIL_TYPE_SUCCEEDED = 'Job Succeeded';
export const DETAIL_TYPE_FAILED = 'Job Failed';
export const DETAIL_TYPE_WORKFLOW_FAILED = 'Workflow Failed';
/** Published once per array job, when its last child has its final outcome. */
export const DETAIL_TYPE_ARRAY_COMPLETED = 'Array Job Completed';

/** Prefix of `startedBy`, execution names and other names the library generates. */
export const NAME_PREFIX = 'hc-';

/** Environment variables of the handlers' configs. */
export const DISPATCH_CONFIG_ENV = 'HC_DISPATCH_CONFIG';
export const TRACKER_CONFIG_ENV = 'HC_TRACKER_CONFIG';

/**
 * Environment entries the dispatcher adds to every launch when tracking is on:
 * they identify the job to the container and to the tracker (ECS Task State
 * Change events carry the overrides, not the tags).
 */
export const ENV_JOB_ID = 'HC_JOB_ID';
export const ENV_RUN = 'HC_RUN';
export const ENV_ATTEMPT = 'HC_ATTEMPT';
export const ENV_ENQUEUED_AT = 'HC_ENQUEUED_AT';
export const TRACKING_ENV = [ENV_JOB_ID, ENV_RUN, ENV_ATTEMPT, ENV_ENQUEUED_AT];
/**
 * Environment entries of an array job's child: its index (0-based), the
 * number of children, and the parent job's id. Part of the child's input:
 * they stay in the overrides when the child is retried or redriven.
 */
export const ENV_ARRAY_INDEX = 'HC_ARRAY_INDEX';
export const ENV_ARRAY_SIZE = 'HC_ARRAY_SIZE';
export const ENV_ARRAY_JOB_ID = 'HC_ARRAY_JOB_ID';
/** The child's element, for an array made from a list in the event (a string as is, anything else as JSON). */
export const ENV_ARRAY_ELEMENT = 'HC_ARRAY_ELEMENT';
/** Bytes of the overrides kept free for the tracking entries. */
export const TRACKING_ENV_RESERVE = 320;

/** The `s3://` URI of a task's claim-check document, when its input did not fit the overrides. */
export const PAYLOAD_URI_ENV = 'HC_PAYLOAD_URI';

/** The task token of a workflow job run with `JobIntegration.TASK_TOKEN`. */
export const TASK_TOKEN_ENV = 'HC_TASK_TOKEN';

/** Task tag keys written on every task a dispatcher launches. */
export const TAG_JOB_ID = 'hc:job-id';
export const TAG_DISPATCHER = 'hc:dispatcher';
export const TAG_ATTEMPT = 'hc:attempt';

/** Message attributes on records the dispatcher dead-letters. */
export const DLQ_ATTR_REASON = 'hc-reason';
export const DLQ_ATTR_SOURCE = 'hc-source-arn';
export const DLQ_ATTR_MESSAGE_ID = 'hc-message-id';
export const DLQ_ATTR_RECEIVE_COUNT = 'hc-receive-count';

/** `StopTask` reason of a task the tracker stops for its timeout (and how it recognizes it when it stops). */
export const TIMEOUT_REASON_PREFIX = `${BRAND}: job timed out after`;

/** `StopTask` reason of a task the tracker stops because it did not reach RUNNING within the job's start timeout. */
export const START_TIMEOUT_REASON_PREFIX = `${BRAND}: job did not start within`;

/** The id of a construct warning: `@cdk-hybrid-compute/<file>:<camelCaseId>`. */
export function warningId(file: string, id: string): string {
  return `@${BRAND}/${file}:${id}`;
}
