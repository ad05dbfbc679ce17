/**
 * The `JobField` marker format (`{{hc:<field>}}`) and the fields it names:
 * shared by the constructs (validation at synth), the dispatcher (resolution
 * per job) and the workflow (resolution from the execution input).
 */
import { JobSourceType, WORKFLOW_JOB_PATH } from './job';

/** Matches one marker; group 1 is the field (`s3.key`, `path:$.x`). */
export const MARKER_PATTERN = /\{\{hc:([^{}]+?)\}\}/g;

/** The marker string of a field. */
export function marker(field: string): string {
  return `{{hc:${field}}}`;
}

/** The fields (`s3.key`, `path:$.x`) named by the markers in a string. */
export function fieldsIn(value: string): string[] {
  return [...value.matchAll(MARKER_PATTERN)].map((m) => m[1]);
}

/** Whether a string contains at least one marker. */
export function containsMarker(value: string): boolean {
  return new RegExp(MARKER_PATTERN.source).test(value);
}

export const PAYLOAD_URI_FIELD = 'job.payloadUri';

const ALL: ReadonlyArray<JobSourceType> = [JobSourceType.S3, JobSourceType.SQS, JobSourceType.EVENTBRIDGE];

/** Fields the dispatcher can resolve, by the source types that provide them. */
export const FIELD_SOURCES: Readonly<Record<string, ReadonlyArray<JobSourceType>>> = {
  'job.id': ALL,
  'job.source': ALL,
  'job.event': ALL,
  [PAYLOAD_URI_FIELD]: ALL,
  's3.bucket': [JobSourceType.S3],
  's3.key': [JobSourceType.S3],
  's3.uri': [JobSourceType.S3],
  's3.size': [JobSourceType.S3],
  's3.etag': [JobSourceType.S3],
  's3.versionId': [JobSourceType.S3],
  's3.eventName': [JobSourceType.S3],
  'sqs.body': [JobSourceType.SQS],
  'sqs.messageId': [JobSourceType.SQS],
  'eventbridge.detail': [JobSourceType.EVENTBRIDGE],
  'eventbridge.detailType': [JobSourceType.EVENTBRIDGE],
  'eventbridge.source': [JobSourceType.EVENTBRIDGE],
};

/**
 * Parses `$`, `$.a.b`, `$.a[0]`, `$['a b']` into steps. Throws a message that
 * says what is wrong and what is supported.
 */
export function parseJobPath(path: string): Array<string | number> {
  if (typeof path !== 'string' || !path.startsWith('$')) {
    throw new Error(`job field path must start with '$' (for example '$.detail.orderId'), got '${path}'`);
  }
  if (path.includes('{') || path.includes('}')) {
    throw new Error(`job field path must not contain '{' or '}', got '${path}'`);
  }
  const steps: Array<string | number> = [];
  const re = /\.([A-Za-z0-9_$@\-]+)|\[(\d+)\]|\['([^']*)'\]/y;
  let pos = 1;
  while (pos < path.length) {
    re.lastIndex = pos;
    const m = re.exec(path);
    if (!m) {
      throw new Error(`job field path '${path}' has an unsupported step at position ${pos}: use '.name', '[index]' or ['name'] steps`);
    }
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]));
    pos = re.lastIndex;
  }
  return steps;
}

/** How a field is read from a workflow's execution input. */
export interface WorkflowFieldPath {
  /** A JSONPath into the context object (`$$.Execution.Input.job...`). */
  readonly path: string;
  /** Whether the value there is JSON to be passed as a string (`States.JsonToString`). */
  readonly json: boolean;
}

/**
 * The path of a field in the input of an execution a dispatcher started
 * (`{ job: { id, source, fields, event } }`), or undefined when the
 * workflow input does not carry it (the claim-check URI).
 */
export function workflowFieldPath(field: string): WorkflowFieldPath | undefined {
  if (field === 'job.id') return { path: `${WORKFLOW_JOB_PATH}.id`, json: false };
  if (field === 'job.source') return { path: `${WORKFLOW_JOB_PATH}.source`, json: false };
  if (field === 'job.event') return { path: `${WORKFLOW_JOB_PATH}.event`, json: true };
  if (field.startsWith('path:')) {
    const steps = parseJobPath(field.slice(5));
    // A scalar at a path is passed as is; objects and arrays cannot be told
    // apart at synth, so paths are read as they are (like StringAt).
    return { path: WORKFLOW_JOB_PATH + '.event' + steps.map(pathStep).join(''), json: false };
  }
  if (field === PAYLOAD_URI_FIELD || !(field in FIELD_SOURCES)) return undefined;
  return { path: `${WORKFLOW_JOB_PATH}.fields['${field}']`, json: false };
}

function pathStep(step: string | number): string {
  if (typeof step === 'number') return `[${step}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(step) ? `.${step}` : `['${step}']`;
}
