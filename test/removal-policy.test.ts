import { App, CfnResource, RemovalPolicy, Stack, aws_logs as logs, aws_s3 as s3 } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { IMAGE } from './helpers';
import { buildExamplesApp } from '../examples/app';
import { ClaimCheck, DispatchTarget, FargateJob, HybridService, JobDispatcher, JobLedger, JobTracker, JobVpc, JobWorkflow } from '../src';

/**
 * The removal rule (README, "What cdk destroy keeps"): records are kept,
 * plumbing is deleted. A resource the library creates is kept after stack
 * deletion when it holds records with an expiry of their own — the job
 * ledger (TTL), log groups (retention), buckets (lifecycle rules) — and
 * deleted otherwise: queues, functions, roles, rules, alarms, the VPC and the
 * cluster. Resources a user passes in are never changed.
 */
const KEPT = new Set(['AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket']);

/** The DeletionPolicy a resource has in its synthesized template. */
function deletionPolicy(app: App, resource: CfnResource): string {
  const stack = Stack.of(resource);
  return app.synth().getStackByName(stack.stackName).template.Resources[stack.getLogicalId(resource)].DeletionPolicy ?? 'Delete';
}

/** Every CloudFormation resource under the library's constructs, with its DeletionPolicy. */
function libraryResources(app: App): Array<{ path: string; type: string; deletion: string }> {
  const constructs = [FargateJob, JobDispatcher, JobVpc, HybridService, JobWorkflow, JobTracker, JobLedger];
  const isLibrary = (c: IConstruct) => constructs.some((k) => c instanceof k) || (c.node.id === 'ClaimCheckBucket' && c.node.scope instanceof Stack);
  const roots = app.node.findAll().filter(isLibrary);
  const seen = new Set<IConstruct>();
  return roots.flatMap((root) => root.node.findAll()).filter((c): c is CfnResource => {
    if (!(c instanceof CfnResource) || seen.has(c)) return false;
    seen.add(c);
    return true;
  }).map((c) => ({ path: c.node.path, type: c.cfnResourceType, deletion: deletionPolicy(app, c) }));
}

test('every example: library resources that hold records are kept, everything else is deleted', () => {
  const app = buildExamplesApp(new App());
  app.synth();
  const resources = libraryResources(app);
  expect(resources.length).toBeGreaterThan(300);
  const wrong = resources.filter((r) => (KEPT.has(r.type) ? 'Retain' : 'Delete') !== r.deletion).map((r) => `${r.type} ${r.deletion} at ${r.path}`);
  expect(wrong).toEqual([]);
  // what is kept, by type, across the six examples
  const kept = resources.filter((r) => r.deletion === 'Retain');
  expect([...new Set(kept.map((r) => r.type))].sort()).toEqual([...KEPT].sort());
  expect(kept.filter((r) => r.type === 'AWS::SQS::Queue')).toEqual([]);
});

test('resources passed in are never changed: a claim-check bucket and a log group of the user\'s keep their removal policies', () => {
  const app = new App();
  const stack = new Stack(app, 'Mine');
  const bucket = new s3.Bucket(stack, 'Claims', { removalPolicy: RemovalPolicy.DESTROY });
  const logGroup = new logs.LogGroup(stack, 'Logs', { removalPolicy: RemovalPolicy.DESTROY });
  const job = new FargateJob(stack, 'Job', { image: IMAGE, logGroup });
  new JobDispatcher(stack, 'Dispatcher', { target: DispatchTarget.fargateJob(job, { claimCheck: ClaimCheck.s3({ bucket }) }) });
  expect(deletionPolicy(app, bucket.node.defaultChild as CfnResource)).toBe('Delete');
  expect(deletionPolicy(app, logGroup.node.defaultChild as CfnResource)).toBe('Delete');
  // the library's own log groups next to them are kept
  expect(deletionPolicy(app, stack.node.findChild('Dispatcher').node.findChild('LogGroup').node.defaultChild as CfnResource)).toBe('Retain');
});

test('the ledger\'s removalPolicy prop is the one way to change what is kept', () => {
  const app = new App();
  const ledger = new JobLedger(new Stack(app, 'Dev'), 'Ledger', { removalPolicy: RemovalPolicy.DESTROY });
  expect(deletionPolicy(app, ledger.node.findChild('Resource').node.defaultChild as CfnResource)).toBe('Delete');
});
