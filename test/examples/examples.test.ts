import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExamplesApp } from '../../examples/app';

describe('example stacks', () => {
  const app = buildExamplesApp(new App());
  const stacks = ['S3ToFargateExample', 'SqsToFargateExample', 'EventBridgeToFargateExample', 'HybridServiceExample'];

  test.each(stacks)('%s matches its snapshot', (name) => {
    const stack = app.node.findChild(name) as any;
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
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
