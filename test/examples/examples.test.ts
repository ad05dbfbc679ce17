import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExamplesApp } from '../../examples/app';
import { localDefinition, runLocally } from '../workflow/local';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

describe('example stacks', () => {
  const app = buildExamplesApp(new App());
  const stacks = ['S3ToFargateExample', 'SqsToFargateExample', 'EventBridgeToFargateExample', 'HybridServiceExample', 'S3WorkflowExample', 'S3RoutedExample'];

  test.each(stacks)('%s matches its snapshot', (name) => {
    const stack = app.node.findChild(name) as any;
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });

  test.each(stacks)('%s has every output the README reads from it, and the README names every output', (name) => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const outputs = Object.keys(Template.fromStack(app.node.findChild(name) as any).toJSON().Outputs ?? {});
    const used = [...readme.matchAll(new RegExp(`\\$\\(out ${name} (\\w+)\\)`, 'g'))].map((m) => m[1]);
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`))!;
    const listed = [...row.split(' | ').pop()!.matchAll(/`(\w+)`/g)].map((m) => m[1]);
    const dispatcherQueues = ['DispatchQueueUrl', 'DispatchQueueArn', 'DeadLetterQueueUrl', 'DeadLetterQueueArn'];
    expect(used.length).toBeGreaterThan(0);
    for (const output of used) expect(outputs).toContain(output);
    for (const output of listed) expect(outputs).toContain(output);
    // Every output is named in the README (the dispatcher's queues once, in the first row, "as above" after).
    const mentioned = new Set([...listed, ...used, ...(row.includes('as above') ? [...dispatcherQueues, 'FailedJobsQueueUrl'] : [])]);
    for (const output of outputs) expect(mentioned).toContain(output);
  });

  test('the workflow example is valid ASL and its paths line up: validate → split (.sync) → list → count each part → summarize', async () => {
    const template = Template.fromStack(app.node.findChild('S3WorkflowExample') as any);
    const definition = localDefinition(template);
    expect(aslValidator(definition)).toMatchObject({ isValid: true, errors: [] });
    const calls: Record<string, any[]> = {};
    const h = (name: string, f: (input: any) => any) => async (input: any) => {
      (calls[name] ??= []).push(input);
      return f(input);
    };
    const run = await runLocally(definition, { job: { id: 'job-1', source: 's3', fields: { 's3.bucket': 'in', 's3.key': 'incoming/a.csv' }, event: {} } }, {
      'Validate': h('Validate', () => ({ Payload: { bucket: 'in', key: 'incoming/a.csv', outputPrefix: 'parts/job-1/' } })),
      'Split': h('Split', () => ({ TaskArn: 't', StopCode: 'EssentialContainerExited', StoppedReason: 'done' })),
      'List parts': h('List parts', () => ({ Payload: { items: ['parts/job-1/part-aa', 'parts/job-1/part-ab'] } })),
      'Count lines': h('Count lines', (input) => ({ Payload: { key: input.Payload, lines: 100 } })),
      'Summarize': h('Summarize', (input) => ({ Payload: { parts: input.Payload.steps.Each_part.length } })),
    });
    expect(run.error).toBeUndefined();
    expect(run.path).toEqual(['Init', 'Validate', 'Split', 'List parts', 'Each part', 'Count lines', 'Count lines', 'Summarize', 'Done']);
    expect(calls.Split[0].Overrides.ContainerOverrides[0].Environment).toEqual([
      { Name: 'INPUT_BUCKET', Value: 'in' }, { Name: 'INPUT_KEY', Value: 'incoming/a.csv' }, { Name: 'OUTPUT_PREFIX', Value: 'parts/job-1/' },
    ]);
    expect(run.output.steps.Summarize).toEqual({ result: { parts: 2 } });
  });

  test('the hybrid service example: nginx on / and two Lambda routes on the same listener', () => {
    const template = Template.fromStack(app.node.findChild('HybridServiceExample') as any);
    const rules = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r: any) => [r.Properties.Priority, r.Properties.Conditions[0].PathPatternConfig.Values]);
    expect(rules).toEqual([[10, ['/api/health']], [20, ['/api/echo', '/api/echo/*']]]);
    template.resourceCountIs('AWS::ECS::Service', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
  });

  test('the S3 example maps the uploaded object into the container and lets the job write only results/', () => {
    const template = Template.fromStack(app.node.findChild('S3ToFargateExample') as any);
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.HC_DISPATCH_CONFIG) as any;
    const config = fn.Properties.Environment.Variables.HC_DISPATCH_CONFIG['Fn::Join'][1].filter((p: any) => typeof p === 'string').join('');
    expect(config).toContain('"environment":{"INPUT_URI":"{{hc:s3.uri}}","INPUT_KEY":"{{hc:s3.key}}","JOB_ID":"{{hc:job.id}}"}');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [{ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } }, QueueArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DispatcherQueue'), 'Arn'] } }] },
    });
  });
});
