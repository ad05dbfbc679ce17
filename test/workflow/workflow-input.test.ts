import * as fs from 'fs';
import * as path from 'path';
import { JobFieldKey, WorkflowInput } from '../../src';
import { WORKFLOW_JOB_PATH } from '../../src/contract/job';
import { FIELD_SOURCES } from '../../src/contract/job-fields';

const keys = Object.entries(JobFieldKey).map(([, v]) => v as string);
const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

test('JobFieldKey names every source-specific field the dispatcher resolves, and nothing else', () => {
  const sourceSpecific = Object.keys(FIELD_SOURCES).filter((k) => !k.startsWith('job.'));
  expect(keys.sort()).toEqual(sourceSpecific.sort());
});

test('WorkflowInput paths are the paths the workflow resolves markers from', () => {
  expect(WORKFLOW_JOB_PATH).toBe(`$$.Execution.Input.${WorkflowInput.JOB.slice(2)}`);
  expect([WorkflowInput.JOB_ID, WorkflowInput.JOB_SOURCE, WorkflowInput.JOB_FIELDS, WorkflowInput.JOB_EVENT])
    .toEqual(['id', 'source', 'fields', 'event'].map((k) => `${WorkflowInput.JOB}.${k}`));
  expect(WorkflowInput.field(JobFieldKey.S3_KEY)).toBe("$.job.fields['s3.key']");
});

test('the README documents every field key', () => {
  const section = readme.slice(readme.indexOf('### The workflow input'));
  for (const key of keys) expect(section).toContain(`\`${key}\``);
});
