import {
  App, Duration, Stack, aws_certificatemanager as acm, aws_ec2 as ec2, aws_ecs as ecs, aws_lambda as lambda, aws_wafv2 as wafv2,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HybridService, HybridServiceProps, ServiceProtocol } from '../../src';
import { propertiesOf, resourceNamed } from '../helpers';

const IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable');
const CERT_ARN = 'arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

function build(props: Partial<HybridServiceProps> = {}, configure?: (stack: Stack, service: HybridService) => void) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { region: 'eu-west-1' } });
  const service = new HybridService(stack, 'Web', { image: IMAGE, containerPort: 80, ...props });
  configure?.(stack, service);
  return { stack, service, template: Template.fromStack(stack) };
}

function fn(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({statusCode:200})') });
}

const sgIngress = (template: Template, prefix: string) => resourceNamed(template, 'AWS::EC2::SecurityGroup', prefix).props.SecurityGroupIngress;

describe('default configuration: internal, HTTP', () => {
  const { stack, service, template } = build();
  const id = (type: string, prefix: string) => resourceNamed(template, type, prefix).id;

  test('an internal load balancer in private subnets that drops invalid headers and logs access', () => {
    const lb = resourceNamed(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer').props;
    expect(lb.Scheme).toBe('internal');
    expect(lb.Subnets).toEqual([{ Ref: id('AWS::EC2::Subnet', 'JobVpcPrivateSubnet1') }, { Ref: id('AWS::EC2::Subnet', 'JobVpcPrivateSubnet2') }]);
    expect(lb.LoadBalancerAttributes).toEqual(expect.arrayContaining([
      { Key: 'deletion_protection.enabled', Value: 'false' },
      { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      { Key: 'access_logs.s3.enabled', Value: 'true' },
      { Key: 'access_logs.s3.bucket', Value: { Ref: id('AWS::S3::Bucket', 'WebAccessLogs') } },
      { Key: 'access_logs.s3.prefix', Value: 'alb' },
    ]));
  });

  test('access log bucket: SSE-S3 (the only encryption ALB log delivery supports), SSL only, private, 90-day expiry', () => {
    expect(resourceNamed(template, 'AWS::S3::Bucket', 'WebAccessLogs').props).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
    });
    const statements = resourceNamed(template, 'AWS::S3::BucketPolicy', 'WebAccessLogsPolicy').props.PolicyDocument.Statement;
    expect(statements[0]).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    // eu-west-1's ELB account writes under alb/AWSLogs/<account>/
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 's3:PutObject', Effect: 'Allow', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::156460612806:root']] } },
    }));
  });

  test('security groups: nothing reaches the load balancer; the service accepts its container port from the load balancer only', () => {
    const lbSg = id('AWS::EC2::SecurityGroup', 'WebLoadBalancerSecurityGroup');
    const svcSg = id('AWS::EC2::SecurityGroup', 'WebServiceSecurityGroup');
    expect(sgIngress(template, 'WebLoadBalancerSecurityGroup')).toBeUndefined();
    // No inline egress: the separate egress rule below replaces EC2's default
    // allow-all rule when CloudFormation adds it (aws/aws-cdk#22140).
    expect(resourceNamed(template, 'AWS::EC2::SecurityGroup', 'WebLoadBalancerSecurityGroup').props.SecurityGroupEgress).toBeUndefined();
    expect(propertiesOf(template, 'AWS::EC2::SecurityGroupEgress')).toEqual([
      { GroupId: { 'Fn::GetAtt': [lbSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 80, ToPort: 80, DestinationSecurityGroupId: { 'Fn::GetAtt': [svcSg, 'GroupId'] }, Description: 'Load balancer to target' },
    ]);
    expect(propertiesOf(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([
      { GroupId: { 'Fn::GetAtt': [svcSg, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 80, ToPort: 80, SourceSecurityGroupId: { 'Fn::GetAtt': [lbSg, 'GroupId'] }, Description: 'Load balancer to target' },
    ]);
  });

  test('an HTTP listener on 80 forwarding to the service, with a synth warning', () => {
    expect(propertiesOf(template, 'AWS::ElasticLoadBalancingV2::Listener')).toEqual([{
      LoadBalancerArn: { Ref: id('AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer') },
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: id('AWS::ElasticLoadBalancingV2::TargetGroup', 'WebServiceTargetGroup') } }],
    }]);
    Annotations.fromStack(stack).hasWarning('/Test/Web', Match.stringLikeRegexp('listens on plain HTTP: pass a certificate'));
    expect(service.protocol).toBe(ServiceProtocol.HTTP);
  });

  test('the service: private subnets, no public IP, circuit breaker with rollback, 2 tasks, no ECS Exec', () => {
    const svc = resourceNamed(template, 'AWS::ECS::Service', 'WebService').props;
    expect(svc.DeploymentConfiguration).toEqual({
      Alarms: { AlarmNames: [], Enable: false, Rollback: false },
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      MaximumPercent: 200,
      MinimumHealthyPercent: 100,
    });
    expect(svc.DesiredCount).toBe(2);
    expect(svc.EnableExecuteCommand).toBe(false);
    expect(svc.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    expect(svc.LoadBalancers).toEqual([{ ContainerName: 'web', ContainerPort: 80, TargetGroupArn: { Ref: id('AWS::ElasticLoadBalancingV2::TargetGroup', 'WebServiceTargetGroup') } }]);
    expect(resourceNamed(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'WebServiceTargetGroup').props).toMatchObject({
      TargetType: 'ip', Port: 80, Protocol: 'HTTP', HealthCheckPath: '/', Matcher: { HttpCode: '200-399' }, HealthCheckIntervalSeconds: 15,
    });
  });

  test('scaling: 2 to 8 tasks tracking 60% CPU, 5-minute scale-in cooldown', () => {
    expect(resourceNamed(template, 'AWS::ApplicationAutoScaling::ScalableTarget', 'WebServiceTaskCountTarget').props).toMatchObject({ MinCapacity: 2, MaxCapacity: 8 });
    expect(propertiesOf(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.TargetTrackingScalingPolicyConfiguration)).toEqual([{
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      TargetValue: 60,
      ScaleInCooldown: 300,
      ScaleOutCooldown: 60,
    }]);
  });

  test('alarms: target 5xx rate of 5% over 5 minutes, an unhealthy host for 3 minutes', () => {
    const alarms = propertiesOf(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => [a.Threshold, a.EvaluationPeriods, a.MetricName ?? a.Metrics.map((m: any) => m.Expression ?? m.MetricStat.Metric.MetricName).join(' ')])).toEqual([
      [0.05, 1, 'IF(requests > 0, errors / requests, 0) HTTPCode_Target_5XX_Count RequestCount'],
      [1, 3, 'UnHealthyHostCount'],
    ]);
    expect(service.alarms).toHaveLength(2);
  });

  test('metrics for 5xx, latency and requests', () => {
    expect(service.metricTarget5xxCount().metricName).toBe('HTTPCode_Target_5XX_Count');
    expect(service.metricLoadBalancer5xxCount().metricName).toBe('HTTPCode_ELB_5XX_Count');
    expect([service.metricTargetResponseTime().metricName, service.metricTargetResponseTime().statistic]).toEqual(['TargetResponseTime', 'p90']);
    expect(service.metricRequestCount().metricName).toBe('RequestCount');
  });
});

describe('HTTPS', () => {
  const { template } = build({ internetFacing: true, allowedCidrs: ['203.0.113.0/24'] });
  test('a certificate makes the main listener 443 with the recommended TLS policy, and 80 a permanent redirect to it', () => {
    const https = build({
      allowedCidrs: ['203.0.113.0/24'],
      certificate: acm.Certificate.fromCertificateArn(new Stack(), 'Cert', CERT_ARN),
    });
    const listeners = propertiesOf(https.template, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners).toEqual([
      expect.objectContaining({ Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', Certificates: [{ CertificateArn: CERT_ARN }] }),
      expect.objectContaining({
        Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
      }),
    ]);
    expect(sgIngress(https.template, 'WebLoadBalancerSecurityGroup')).toEqual([
      { CidrIp: '203.0.113.0/24', Description: 'listener 443 from 203.0.113.0/24', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
      { CidrIp: '203.0.113.0/24', Description: 'listener 80 from 203.0.113.0/24', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
    ]);
    expect(https.service.protocol).toBe(ServiceProtocol.HTTPS);
    Annotations.fromStack(https.stack).hasNoWarning('/Test/Web', Match.anyValue());
  });

  test('internet-facing: public subnets, and ingress exactly from the allowed CIDRs (IPv4 and IPv6) on the listener port', () => {
    const lb = resourceNamed(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer').props;
    expect(lb.Scheme).toBe('internet-facing');
    const v6 = build({ internetFacing: true, allowedCidrs: ['0.0.0.0/0', '2001:db8::/32'] });
    expect(sgIngress(v6.template, 'WebLoadBalancerSecurityGroup')).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'listener 80 from 0.0.0.0/0', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
      { CidrIpv6: '2001:db8::/32', Description: 'listener 80 from 2001:db8::/32', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
    ]);
  });

  test('connections.allowDefaultPortFrom opens the listener port to a peer', () => {
    const { template: t } = build({}, (_stack, service) => {
      service.connections.allowDefaultPortFrom(ec2.Peer.ipv4('10.1.0.0/16'), 'office');
    });
    expect(sgIngress(t, 'WebLoadBalancerSecurityGroup')).toEqual([{ CidrIp: '10.1.0.0/16', Description: 'office', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 }]);
  });
});

describe('Lambda routes', () => {
  const { stack, template, service } = build({}, (s, svc) => {
    svc.addLambdaRoute('Health', { function: fn(s, 'HealthFn'), pathPatterns: ['/api/health'], priority: 10 });
    svc.addLambdaRoute('Echo', { function: fn(s, 'EchoFn'), pathPatterns: ['/api/echo', '/api/echo/*'], hostHeaders: ['api.example.com'], priority: 20, multiValueHeaders: true });
  });
  const id = (type: string, prefix: string) => resourceNamed(template, type, prefix).id;

  test('listener rules with their priorities and conditions forward to Lambda target groups', () => {
    const rules = propertiesOf(template, 'AWS::ElasticLoadBalancingV2::ListenerRule').map((r) => ({
      priority: r.Priority, conditions: r.Conditions, target: r.Actions[0].TargetGroupArn.Ref,
    }));
    expect(rules).toEqual([
      { priority: 10, conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/health'] } }], target: id('AWS::ElasticLoadBalancingV2::TargetGroup', 'WebHealthTargetGroup') },
      {
        priority: 20,
        conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/echo', '/api/echo/*'] } }, { Field: 'host-header', HostHeaderConfig: { Values: ['api.example.com'] } }],
        target: id('AWS::ElasticLoadBalancingV2::TargetGroup', 'WebEchoTargetGroup'),
      },
    ]);
  });

  test('each Lambda target group registers its function, is named, and is created after the invoke permission', () => {
    const tg = template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')[id('AWS::ElasticLoadBalancingV2::TargetGroup', 'WebEchoTargetGroup')] as any;
    expect(tg.Properties).toEqual({
      Name: expect.stringMatching(/^hc-[A-Za-z0-9-]{1,29}$/),
      TargetType: 'lambda',
      Targets: [{ Id: { 'Fn::GetAtt': [id('AWS::Lambda::Function', 'EchoFn'), 'Arn'] } }],
      TargetGroupAttributes: [{ Key: 'lambda.multi_value_headers.enabled', Value: 'true' }],
    });
    expect(tg.DependsOn).toEqual([id('AWS::Lambda::Permission', 'WebEchoInvokePermission')]);
  });

  test('invoke permission: the load balancer service, only from that target group, only in this account', () => {
    const tgName = resourceNamed(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'WebHealthTargetGroup').props.Name;
    expect(resourceNamed(template, 'AWS::Lambda::Permission', 'WebHealthInvokePermission').props).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [id('AWS::Lambda::Function', 'HealthFn'), 'Arn'] },
      Principal: 'elasticloadbalancing.amazonaws.com',
      SourceArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticloadbalancing:eu-west-1:', { Ref: 'AWS::AccountId' }, `:targetgroup/${tgName}/*`]] },
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  test('target group names are unique per route and service', () => {
    const names = propertiesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter((t) => t.TargetType === 'lambda').map((t) => t.Name);
    expect(new Set(names).size).toBe(2);
    expect(stack.resolve(service.listener.listenerArn)).toEqual({ Ref: id('AWS::ElasticLoadBalancingV2::Listener', 'WebLoadBalancerHttp') });
  });

  test('routes given as a prop are the same as added ones', () => {
    const stack2 = new Stack(new App(), 'Props', { env: { region: 'eu-west-1' } });
    new HybridService(stack2, 'Web', { image: IMAGE, lambdaRoutes: [{ id: 'Health', function: fn(stack2, 'F'), pathPatterns: ['/h'], priority: 1 }] });
    const rules = propertiesOf(Template.fromStack(stack2), 'AWS::ElasticLoadBalancingV2::ListenerRule');
    expect(rules.map((r) => [r.Priority, r.Conditions])).toEqual([[1, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/h'] } }]]]);
  });
});

describe('options', () => {
  test('Spot capacity, ECS Exec, request-count scaling, WAF, deletion protection', () => {
    const { template } = build({
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }],
      enableExecuteCommand: true,
      requestsPerTarget: 500,
      deletionProtection: true,
    });
    const svc = resourceNamed(template, 'AWS::ECS::Service', 'WebService').props;
    expect(svc.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Base: 1, Weight: 1 }, { CapacityProvider: 'FARGATE_SPOT', Weight: 3 }]);
    expect(svc.EnableExecuteCommand).toBe(true);
    const policies = propertiesOf(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType);
    expect(policies).toEqual(['ECSServiceAverageCPUUtilization', 'ALBRequestCountPerTarget']);
    const lb = resourceNamed(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer').props;
    expect(lb.LoadBalancerAttributes).toContainEqual({ Key: 'deletion_protection.enabled', Value: 'true' });
  });

  test('a WAF web ACL is associated with the load balancer', () => {
    const app = new App();
    const stack = new Stack(app, 'Waf', { env: { region: 'eu-west-1' } });
    const acl = new wafv2.CfnWebACL(stack, 'Acl', { scope: 'REGIONAL', defaultAction: { allow: {} }, visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'acl', sampledRequestsEnabled: true } });
    new HybridService(stack, 'Web', { image: IMAGE, webAcl: acl });
    const t = Template.fromStack(stack);
    expect(propertiesOf(t, 'AWS::WAFv2::WebACLAssociation')).toEqual([{
      ResourceArn: { Ref: resourceNamed(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer').id },
      WebACLArn: { 'Fn::GetAtt': ['Acl', 'Arn'] },
    }]);
  });
});

describe('bad props fail synth with what to change', () => {
  const cert = () => acm.Certificate.fromCertificateArn(new Stack(), 'C', CERT_ARN);
  test.each<[string, Partial<HybridServiceProps>, string]>([
    ['internet-facing without allowedCidrs', { internetFacing: true },
      "an internet-facing service needs allowedCidrs: name who may connect (for example ['0.0.0.0/0'] for everyone); nothing is opened by default"],
    ['HTTPS without a certificate', { protocol: ServiceProtocol.HTTPS },
      "protocol is HTTPS but no certificate was given: pass certificate (an ACM certificate for the service's domain)"],
    ['a certificate with HTTP', { protocol: ServiceProtocol.HTTP, certificate: cert() },
      'a certificate was given but protocol is HTTP: drop protocol (HTTPS is the default with a certificate) or the certificate'],
    ['a malformed CIDR', { allowedCidrs: ['10.0.0.0'] }, "allowedCidrs entry '10.0.0.0' is not an IPv4 or IPv6 CIDR: use an address and a prefix length (for example 10.0.0.0/8, 203.0.113.7/32 or 2001:db8::/32)"],
    ['an invalid Fargate size', { cpu: 256, memoryLimitMiB: 4096 }, 'memoryLimitMiB 4096 is not valid with cpu 256 on Fargate: use 512, 1024-2048 in steps of 1024 MiB'],
    ['min above max', { minCapacity: 5, maxCapacity: 2 }, 'capacity must satisfy 0 <= minCapacity (5) <= maxCapacity (2) and maxCapacity >= 1'],
    ['a port out of range', { containerPort: 70000 }, 'containerPort must be a whole number from 1 to 65,535, got 70000'],
    ['a non-Fargate capacity provider', { capacityProviderStrategies: [{ capacityProvider: 'asg', weight: 1 }] }, "capacity provider 'asg' cannot run Fargate jobs: use FARGATE or FARGATE_SPOT"],
  ])('%s', (_label, props, message) => {
    expect(() => build(props)).toThrow(`Test/Web: ${message}`);
  });

  const route = (s: Stack, o: Partial<Parameters<HybridService['addLambdaRoute']>[1]>) => ({ function: fn(s, `F${Math.random()}`.replace('.', '')), priority: 1, pathPatterns: ['/a'], ...o });
  test.each<[string, (s: Stack, svc: HybridService) => void, string]>([
    ['duplicate priorities', (s, svc) => {
      svc.addLambdaRoute('A', route(s, { priority: 5 }));
      svc.addLambdaRoute('B', route(s, { priority: 5 }));
    }, "Lambda route 'B': priority 5 is already used by route 'A': give each route its own priority"],
    ['a priority out of range', (s, svc) => svc.addLambdaRoute('A', route(s, { priority: 50001 })), "Lambda route 'A': priority must be a whole number from 1 to 50,000, got 50001"],
    ['a path pattern over 128 characters', (s, svc) => svc.addLambdaRoute('A', route(s, { pathPatterns: [`/${'a'.repeat(128)}`] })),
      `Lambda route 'A': path pattern '/${'a'.repeat(128)}' must be 1-128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?`],
    ['a path pattern with a space', (s, svc) => svc.addLambdaRoute('A', route(s, { pathPatterns: ['/a b'] })),
      'Lambda route \'A\': path pattern \'/a b\' must be 1-128 characters of A-Z a-z 0-9 _ - . $ / ~ " \' @ : + & * ?'],
    ['six condition values', (s, svc) => svc.addLambdaRoute('A', route(s, { pathPatterns: ['/1', '/2', '/3', '/4'], hostHeaders: ['a.example.com', 'b.example.com'] })),
      "Lambda route 'A' has 6 path and host values; an ALB rule allows 5 in all: split it into several routes"],
    ['a route that matches nothing', (s, svc) => svc.addLambdaRoute('A', route(s, { pathPatterns: [] })), "Lambda route 'A' matches nothing: give pathPatterns, hostHeaders or both"],
    ['a bad host header', (s, svc) => svc.addLambdaRoute('A', route(s, { hostHeaders: ['api example.com'] })),
      "Lambda route 'A': host header 'api example.com' must be 1-128 characters of A-Z a-z 0-9 - . * ?"],
  ])('%s', (_label, configure, message) => {
    expect(() => build({}, configure)).toThrow(`Test/Web: ${message}`);
  });

  test('an environment-agnostic stack: the region is needed for access logging', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => new HybridService(stack, 'Web', { image: IMAGE }))
      .toThrow("Agnostic/Web needs its stack's region to grant the region's ELB log-delivery principal on the access log bucket: set env: { region } on the stack (the account may stay unresolved)");
  });

  test('a scale-in cooldown is applied to both policies', () => {
    const { template } = build({ requestsPerTarget: 100, scaleInCooldown: Duration.minutes(10) });
    expect(propertiesOf(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.TargetTrackingScalingPolicyConfiguration.ScaleInCooldown)).toEqual([600, 600]);
  });
});
