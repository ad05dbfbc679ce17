/**
 * The integration tests (`integ.*.ts`) deploy with integ-runner and need an
 * account. Here each one is synthesized as integ-runner would (its app, the
 * IntegTest manifest, the assertion stack) and its templates are compared
 * with committed snapshots, normalized so that only real changes show.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { SnapshotNormalizer } from '../../src';

/** Assertion custom resources carry a `salt` (the synth time) so they run on every deploy. */
function withoutSalt(value: any): any {
  if (Array.isArray(value)) return value.map(withoutSalt);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'salt' ? 'SALT' : withoutSalt(v)]));
}

const tests = fs.readdirSync(__dirname).filter((f) => /^integ\..+\.ts$/.test(f)).sort();

test('there is one integration test per example pattern', () => {
  expect(tests).toEqual([
    'integ.eventbridge-to-fargate.ts', 'integ.hybrid-service.ts', 'integ.s3-to-fargate.ts', 'integ.s3-workflow.ts', 'integ.sqs-to-fargate.ts',
  ]);
});

describe.each(tests)('%s', (file) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('synthesizes its test case and assertion stacks; their templates match the snapshot', () => {
    // The region the tests deploy to comes from integ-runner; fix it here.
    const region = process.env.CDK_DEFAULT_REGION;
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { build } = require(path.join(__dirname, file)) as { build: (app: App) => App };
      const assembly = build(new App({ outdir })).synth();
      const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'integ.json'), 'utf8'));
      const stacks = assembly.stacks.map((s) => s.stackName).sort();
      expect(stacks.length).toBeGreaterThanOrEqual(2);
      expect(Object.values<any>(manifest.testCases)[0].assertionStack).toMatch(/Assertions$/);
      const templates = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, withoutSalt(SnapshotNormalizer.normalize(s.template))]));
      expect({ manifest, templates }).toMatchSnapshot();
    } finally {
      if (region === undefined) delete process.env.CDK_DEFAULT_REGION; else process.env.CDK_DEFAULT_REGION = region;
    }
  });
});
