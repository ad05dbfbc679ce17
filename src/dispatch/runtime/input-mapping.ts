import { createHash } from 'crypto';
import { PermanentError } from './errors';
import { CLAIM_CHECK_DOCUMENT_VERSION, ClaimCheckConfig, JobLaunchConfig, MAX_OVERRIDES_CHARS } from '../../contract/dispatch-config';
import type { Job } from '../../contract/job';
import { FIELD_SOURCES, MARKER_PATTERN, marker, parseJobPath, PAYLOAD_URI_FIELD } from '../../contract/job-fields';
import { PAYLOAD_URI_ENV } from '../../contract/names';

/** The `overrides` member of a RunTask input. */
export interface TaskOverrides {
  readonly containerOverrides: Array<{
    readonly name: string;
    readonly environment?: Array<{ readonly name: string; readonly value: string }>;
    readonly command?: string[];
  }>;
}

/** Values known only while one job is dispatched. */
export interface ResolveContext {
  /** URI of the job's claim-check document, when the dispatcher has a claim check. */
  readonly payloadUri?: string;
}

/** A claim-check document to write before the job launches. */
export interface ClaimCheckDocument {
  readonly key: string;
  readonly uri: string;
  readonly body: string;
}

/** What a job's launches pass to ECS. */
export interface PreparedJob {
  readonly overrides?: TaskOverrides;
  /** Written (idempotently, same key for every delivery) before any launch. */
  readonly claimCheck?: ClaimCheckDocument;
}

/** Resolves every marker in `template` for `job`. */
export function resolveTemplate(template: string, job: Job, context: ResolveContext = {}): string {
  return template.replace(MARKER_PATTERN, (_m, field: string) => resolveField(field, job, context));
}

function resolveField(field: string, job: Job, context: ResolveContext): string {
  if (field === 'job.id') return job.id;
  if (field === 'job.source') return job.source;
  if (field === 'job.event') return typeof job.event === 'string' ? job.event : JSON.stringify(job.event);
  if (field === PAYLOAD_URI_FIELD) {
    if (context.payloadUri === undefined) {
      throw new PermanentError('JobField.payloadUri() is used but this dispatcher has no claim check bucket');
    }
    return context.payloadUri;
  }
  if (field.startsWith('path:')) return resolvePath(field.slice(5), job);
  const value = job.fields[field];
  if (value === undefined) {
    const known = FIELD_SOURCES[field];
    if (!known) {
      throw new PermanentError(`unknown job field '${field}'`);
    }
    throw new PermanentError(`job field '${field}' is not available for a job from ${job.source} (it comes from ${known.join(' or ')} jobs)`);
  }
  return value;
}

function resolvePath(path: string, job: Job): string {
  const node = valueAtPath(path, job);
  return typeof node === 'string' ? node : JSON.stringify(node);
}

/** The value at a `JobField.fromPath()` path of the job's event; `PermanentError` when it is not there. */
export function valueAtPath(path: string, job: Job): unknown {
  let steps: Array<string | number>;
  try {
    steps = parseJobPath(path);
  } catch (e) {
    throw new PermanentError((e as Error).message);
  }
  let node: any = job.event;
  for (const step of steps) {
    const present = node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, step);
    if (!present) {
      throw new PermanentError(`job field path '${path}' is not present in the ${job.source} event`);
    }
    node = node[step];
  }
  return node;
}

/**
 * `overrides` with the job's tracking entries (HC_JOB_ID, HC_RUN, HC_ATTEMPT,
 * HC_ENQUEUED_AT) set on the job's container, replacing any earlier ones.
 */
export function withTrackingEnv(
  overrides: TaskOverrides | undefined, containerName: string, entries: Record<string, string>,
): TaskOverrides {
  const containers = overrides?.containerOverrides ?? [];
  const own = containers.find((c) => c.name === containerName) ?? { name: containerName };
  const environment = [
    ...(own.environment ?? []).filter((e) => !(e.name in entries)),
    ...Object.entries(entries).map(([name, value]) => ({ name, value })),
  ];
  return {
    containerOverrides: [
      ...containers.filter((c) => c !== own),
      { ...own, environment },
    ],
  };
}

/** Serialized size that ECS counts against the 8,192 limit (UTF-8 bytes: never under the character count). */
export function overridesSize(overrides: TaskOverrides | undefined): number {
  return overrides ? Buffer.byteLength(JSON.stringify(overrides), 'utf8') : 0;
}

/**
 * Where a claim-check document lives: its key is the SHA-256 of the job
 * (family, id) and of the document's content, so every delivery of the same
 * input writes the same object, and a different input under the same job id
 * (a duplicate message with other content) can never overwrite what a
 * running task reads.
 */
export function claimCheckLocation(claimCheck: ClaimCheckConfig, family: string, jobId: string, content: string): { key: string; uri: string } {
  const key = `${claimCheck.prefix}${createHash('sha256').update(`${family}\n${jobId}\n${content}`, 'utf8').digest('hex')}.json`;
  return { key, uri: `s3://${claimCheck.bucket}/${key}` };
}

type EnvEntry = { name: string; value: string };

function assemble(containerName: string, environment: EnvEntry[], command: string[] | undefined): TaskOverrides | undefined {
  if (environment.length === 0 && command === undefined) {
    return undefined;
  }
  return {
    containerOverrides: [{
      name: containerName,
      ...(environment.length > 0 ? { environment } : {}),
      ...(command !== undefined ? { command } : {}),
    }],
  };
}

/**
 * The container overrides for one job: the marker-bearing environment entries
 * and command, resolved.
 *
 * When they exceed the ECS limit and a claim check is configured, every mapped
 * value goes into a claim-check document, `HC_PAYLOAD_URI` points at it, and
 * the largest mapped variables are left out of the environment until the rest
 * fits. A job that uses `JobField.payloadUri()` always gets a document.
 *
 * Throws `PermanentError` when a field cannot resolve or nothing fits.
 */
export function prepareJob(config: JobLaunchConfig, job: Job, claimCheck?: ClaimCheckConfig, reserve = 0): PreparedJob {
  const limit = MAX_OVERRIDES_CHARS - reserve;
  // Resolve with the payload URI left as its marker: the document's key is
  // derived from this content, and the URI from the key.
  const placeholder = marker(PAYLOAD_URI_FIELD);
  const names = Object.keys(config.environment).sort();
  const draftEnvironment = names.map((name) => ({ name, value: resolveTemplate(config.environment[name], job, { payloadUri: placeholder }) }));
  const draftCommand = config.command?.map((part) => resolveTemplate(part, job, { payloadUri: placeholder }));
  const templates = [...Object.values(config.environment), ...(config.command ?? [])];
  const wantsDocument = templates.some((t) => t.includes(placeholder));
  const draftBody = JSON.stringify({
    version: CLAIM_CHECK_DOCUMENT_VERSION,
    jobId: job.id,
    source: job.source,
    environment: Object.fromEntries(draftEnvironment.map((e) => [e.name, e.value])),
    ...(draftCommand ? { command: draftCommand } : {}),
    event: job.event,
  });
  const location = claimCheck ? claimCheckLocation(claimCheck, config.family, job.id, draftBody) : undefined;
  if (!location && wantsDocument) {
    throw new PermanentError('JobField.payloadUri() is used but this dispatcher has no claim check bucket');
  }
  const withUri = (v: string) => (location ? v.split(placeholder).join(location.uri) : v);
  const environment = draftEnvironment.map((e) => ({ name: e.name, value: withUri(e.value) }));
  const command = draftCommand?.map(withUri);

  const overrides = assemble(config.containerName, environment, command);
  const size = overridesSize(overrides);
  if (size <= limit && !wantsDocument) {
    return { overrides };
  }
  if (!location) {
    throw new PermanentError(
      `container overrides are ${size} bytes, over the ECS RunTask limit of ${MAX_OVERRIDES_CHARS}${reserve ? ` (less ${reserve} kept for tracking)` : ''}: `
      + 'enable the dispatcher\'s claim check, or map a smaller part of the event (JobField.fromPath) instead of the whole event or body');
  }
  const document: ClaimCheckDocument = { ...location, body: withUri(draftBody) };
  if (size <= limit) {
    return { overrides, claimCheck: document };
  }
  // Leave out the largest values (ties by name) until the rest fits.
  const kept = [...environment, { name: PAYLOAD_URI_ENV, value: location.uri }];
  const bySize = [...environment].sort((a, b) => Buffer.byteLength(b.value) - Buffer.byteLength(a.value) || a.name.localeCompare(b.name));
  let slim = assemble(config.containerName, kept, command);
  for (const entry of bySize) {
    if (overridesSize(slim) <= limit) break;
    kept.splice(kept.indexOf(entry), 1);
    slim = assemble(config.containerName, kept, command);
  }
  if (overridesSize(slim) > limit) {
    throw new PermanentError(
      `the resolved command alone makes the container overrides ${overridesSize(slim)} bytes, over the ECS RunTask limit of ${MAX_OVERRIDES_CHARS}${reserve ? ` (less ${reserve} kept for tracking)` : ''}: `
      + 'map large values into environment variables (they can move to the claim-check document) instead of the command');
  }
  return { overrides: slim, claimCheck: document };
}
