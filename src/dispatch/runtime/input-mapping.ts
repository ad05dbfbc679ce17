import { FIELD_SOURCES, MARKER_PATTERN, parseJobPath } from '../../job/job-field';
import { JobLaunchConfig, MAX_OVERRIDES_CHARS } from '../dispatch-config';
import { Job, PermanentError } from './types';

/** The `overrides` member of a RunTask input. */
export interface TaskOverrides {
  readonly containerOverrides: Array<{
    readonly name: string;
    readonly environment?: Array<{ readonly name: string; readonly value: string }>;
    readonly command?: string[];
  }>;
}

/** Resolves every marker in `template` for `job`. */
export function resolveTemplate(template: string, job: Job): string {
  return template.replace(MARKER_PATTERN, (_m, field: string) => resolveField(field, job));
}

function resolveField(field: string, job: Job): string {
  if (field === 'job.id') return job.id;
  if (field === 'job.source') return job.source;
  if (field === 'job.event') return typeof job.event === 'string' ? job.event : JSON.stringify(job.event);
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
  return typeof node === 'string' ? node : JSON.stringify(node);
}

/** Serialized size that ECS counts against the 8,192 limit (UTF-8 bytes: never under the character count). */
export function overridesSize(overrides: TaskOverrides | undefined): number {
  return overrides ? Buffer.byteLength(JSON.stringify(overrides), 'utf8') : 0;
}

/**
 * The container overrides for one job: the marker-bearing environment entries
 * and command, resolved. Throws `PermanentError` when a field cannot resolve
 * or the result would exceed the ECS limit.
 */
export function buildOverrides(config: JobLaunchConfig, job: Job): TaskOverrides | undefined {
  const names = Object.keys(config.environment).sort();
  const environment = names.map((name) => ({ name, value: resolveTemplate(config.environment[name], job) }));
  const command = config.command?.map((part) => resolveTemplate(part, job));
  if (environment.length === 0 && command === undefined) {
    return undefined;
  }
  const overrides: TaskOverrides = {
    containerOverrides: [{
      name: config.containerName,
      ...(environment.length > 0 ? { environment } : {}),
      ...(command !== undefined ? { command } : {}),
    }],
  };
  const size = overridesSize(overrides);
  if (size > MAX_OVERRIDES_CHARS) {
    throw new PermanentError(
      `container overrides are ${size} bytes, over the ECS RunTask limit of ${MAX_OVERRIDES_CHARS}: `
      + 'map a smaller part of the event (JobField.fromPath) instead of the whole event or body');
  }
  return overrides;
}
