import * as net from 'net';
import {
  Annotations, ArnFormat, Duration, aws_certificatemanager as acm, aws_cloudwatch as cloudwatch, aws_ec2 as ec2, aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2, aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_s3 as s3, aws_sns as sns, aws_wafv2 as wafv2,
  Names, Stack, Token,
} from 'aws-cdk-lib';
import { aws_wafv2 as wafv2Refs } from 'aws-cdk-lib/interfaces';
import { Construct } from 'constructs';
import { validateFargateSize } from '../contract/fargate-sizes';
import { warningId } from '../contract/names';
import { AlarmFactory } from '../internal/alarms';
import { constructError, withPath } from '../internal/errors';
import { libraryLogGroup } from '../internal/log-group';
import { acknowledgeCompliance, acknowledgeNag, acknowledgeWildcardResources } from '../internal/nag';
import { secureBucket } from '../internal/secure-bucket';
import { privateSubnets } from '../internal/subnets';
import { validateStrategy } from '../job/job-capacity';
import { clusterFor } from '../network/default-cluster';

/** What the load balancer's main listener speaks. */
export enum ServiceProtocol {
  /** Port 80, plain HTTP: only without a certificate (synth warns). */
  HTTP = 'HTTP',
  /** Port 443 with the certificate; port 80 redirects to it. */
  HTTPS = 'HTTPS',
}

/** A Lambda function that serves some requests of a `HybridService`. */
export interface LambdaRouteOptions {
  /** The function: invoked by the load balancer with the request as its event. */
  readonly function: lambda.IFunction;

  /** Rule priority on the listener, 1-50,000, unique per service (lower wins). */
  readonly priority: number;

  /**
   * Path patterns (`/api/*`), up to 128 characters each.
   * @default - any path (then `hostHeaders` is required)
   */
  readonly pathPatterns?: string[];

  /**
   * Host headers (`api.example.com`, `*.example.com`).
   * @default - any host (then `pathPatterns` is required)
   */
  readonly hostHeaders?: string[];

  /**
   * Send multi-value headers and query strings to the function.
   * @default false
   */
  readonly multiValueHeaders?: boolean;
}

/** A Lambda route given at construction. */
export interface LambdaRouteProps extends LambdaRouteOptions {
  /** Construct id of the route (its target group and permission live under it). */
  readonly id: string;
}

/** Properties of a `HybridService`. */
export interface HybridServiceProps {
  /** The image of the service's container. */
  readonly image: ecs.ContainerImage;

  /**
   * Port the container listens on.
   * @default 8080
   */
  readonly containerPort?: number;

  /**
   * Path the load balancer checks on the container (200-399 is healthy).
   * @default '/'
   */
  readonly healthCheckPath?: string;

  /**
   * Tasks to run before any scaling.
   * @default 2
   */
  readonly desiredCount?: number;

  /**
   * CPU units of a task (256 to 16,384).
   * @default 256
   */
  readonly cpu?: number;

  /**
   * Memory of a task in MiB, valid for `cpu` on Fargate.
   * @default 512
   */
  readonly memoryLimitMiB?: number;

  /**
   * CPU architecture of the image.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * Environment variables of the container.
   * @default - none
   */
  readonly environment?: { [name: string]: string };

  /**
   * Secrets of the container.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };

  /**
   * Capacity provider strategy over FARGATE and FARGATE_SPOT (for example a
   * base of on-demand tasks and the rest on Spot).
   * @default - on-demand Fargate only
   */
  readonly capacityProviderStrategies?: ecs.CapacityProviderStrategy[];

  /**
   * Allow `aws ecs execute-command` into the tasks (adds the SSM permissions to the task role).
   * @default false
   */
  readonly enableExecuteCommand?: boolean;

  /**
   * The cluster to run in.
   * @default - with `vpc`, a new cluster in it (Container Insights, Fargate capacity providers);
   * without, the stack's shared cluster `JobVpc.ofStack(this).defaultCluster()`
   */
  readonly cluster?: ecs.ICluster;

  /**
   * The VPC of a new cluster (ignored with `cluster`).
   * @default - the stack's shared `JobVpc` (`JobVpc.ofStack(this)`) and its cluster
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Whether the load balancer has a public address (in public subnets).
   * @default false - internal, in private subnets
   */
  readonly internetFacing?: boolean;

  /**
   * CIDR ranges (IPv4 or IPv6) allowed to reach the listener ports. An
   * internet-facing service must say so explicitly (`['0.0.0.0/0']` for
   * everyone); nothing is opened silently.
   * @default - none: add peers with `service.connections.allowDefaultPortFrom()`
   */
  readonly allowedCidrs?: string[];

  /**
   * Certificate of the HTTPS listener.
   * @default - none: the service listens on HTTP and synth warns
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The protocol of the main listener.
   * @default - HTTPS with a certificate, HTTP without
   */
  readonly protocol?: ServiceProtocol;

  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.RECOMMENDED_TLS - TLS 1.2 and 1.3 only
   */
  readonly sslPolicy?: elbv2.SslPolicy;

  /**
   * Lowest task count of the autoscaling.
   * @default - `desiredCount`
   */
  readonly minCapacity?: number;

  /**
   * Highest task count of the autoscaling.
   * @default - 4 times `minCapacity`
   */
  readonly maxCapacity?: number;

  /**
   * Average CPU utilization (percent) the scaling tracks.
   * @default 60
   */
  readonly targetCpuUtilization?: number;

  /**
   * ALB requests per target per minute the scaling tracks.
   * @default - no request-count scaling
   */
  readonly requestsPerTarget?: number;

  /**
   * Wait after a scale-in before the next one.
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;

  /**
   * Where the alarms (target 5xx rate, unhealthy hosts) notify.
   * @default - the topic of a `ComplianceDefaults` aspect over this construct; else alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Bucket of the load balancer's access logs (SSE-S3 encrypted: ALB log delivery cannot use KMS).
   * @default - a new encrypted, SSL-only bucket whose logs expire after `accessLogsExpiration`
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * How long access logs are kept in a bucket the service creates.
   * @default Duration.days(90)
   */
  readonly accessLogsExpiration?: Duration;

  /**
   * A regional WAF web ACL to associate with the load balancer.
   * @default - none
   */
  readonly webAcl?: wafv2Refs.IWebACLRef;

  /**
   * Protect the load balancer from deletion.
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * Lambda functions that serve some paths or hosts on the same listener.
   * More can be added with `addLambdaRoute()`.
   * @default - none
   */
  readonly lambdaRoutes?: LambdaRouteProps[];

  /**
   * Retention of the container's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the container's log group (its policy must let CloudWatch
   * Logs use it; a key of this app gets that statement).
   * @default - CloudWatch Logs' service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/** Whether two lists hold the same values (in any order, ignoring case for hosts is left to ALB: exact here). */
function sameValues(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b);
  return left.size === right.size && [...left].every((v) => right.has(v));
}

/**
 * An IPv4 or IPv6 address with a prefix length in its range (10.0.0.0/8,
 * 2001:db8::/32). IPv6 in hexadecimal groups only: no zone id, no embedded
 * IPv4 (`ec2.Peer.ipv6` rejects it).
 */
function isCidr(cidr: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return false;
  const version = net.isIP(m[1]);
  const prefix = Number(m[2]);
  return (version === 4 && prefix <= 32) || (version === 6 && /^[0-9a-fA-F:]+$/.test(m[1]) && prefix <= 128);
}

const PATH_PATTERN = /^[A-Za-z0-9_\-.$/~"'@:+&*?]{1,128}$/;
const HOST_HEADER = /^[A-Za-z0-9\-.*?]{1,128}$/;

/**
 * An Application Load Balancer in front of a Fargate service, with Lambda
 * functions serving some paths or hosts on the same listener: HTTPS with a
 * modern TLS policy when given a certificate (80 redirects to 443), ingress
 * only from the CIDRs you name, the service reachable only from the load
 * balancer, a deployment circuit breaker with rollback, CPU and
 * request-count scaling, access logs, and alarms on 5xx and unhealthy hosts.
 */
export class HybridService extends Construct implements ec2.IConnectable {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The main listener (443 with HTTPS, 80 with HTTP): Lambda routes are its rules. */
  public readonly listener: elbv2.ApplicationListener;
  /** The port 80 listener that redirects to HTTPS, when the service listens on HTTPS. */
  public readonly redirectListener?: elbv2.ApplicationListener;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The target group of the Fargate service (the listener's default action). */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly cluster: ecs.ICluster;
  /** The load balancer's security group: `allowDefaultPortFrom()` opens the listener to more peers. */
  public readonly connections: ec2.Connections;
  public readonly accessLogsBucket: s3.IBucket;
  public readonly protocol: ServiceProtocol;
  /** Alarms on target 5xx rate and unhealthy hosts. */
  public readonly alarms: cloudwatch.Alarm[];

  private readonly routes: Array<LambdaRouteOptions & { readonly id: string }> = [];

  constructor(scope: Construct, id: string, props: HybridServiceProps) {
    super(scope, id);
    const cpu = props.cpu ?? 256;
    const memoryLimitMiB = props.memoryLimitMiB ?? 512;
    if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memoryLimitMiB)) withPath(this, () => validateFargateSize(cpu, memoryLimitMiB));
    const containerPort = props.containerPort ?? 8080;
    if (!Token.isUnresolved(containerPort) && (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535)) {
      throw constructError(this, `containerPort must be a whole number from 1 to 65,535, got ${containerPort}`);
    }
    this.protocol = props.protocol ?? (props.certificate ? ServiceProtocol.HTTPS : ServiceProtocol.HTTP);
    if (this.protocol === ServiceProtocol.HTTPS && !props.certificate) {
      throw constructError(this, 'protocol is HTTPS but no certificate was given: pass certificate (an ACM certificate for the service\'s domain)');
    }
    if (this.protocol === ServiceProtocol.HTTP && props.certificate) {
      throw constructError(this, 'a certificate was given but protocol is HTTP: drop protocol (HTTPS is the default with a certificate) or the certificate');
    }
    const internetFacing = props.internetFacing ?? false;
    const allowedCidrs = props.allowedCidrs ?? [];
    if (internetFacing && props.allowedCidrs === undefined) {
      throw constructError(this, 'an internet-facing service needs allowedCidrs: name who may connect (for example [\'0.0.0.0/0\'] for everyone); nothing is opened by default');
    }
    for (const cidr of allowedCidrs) {
      if (!Token.isUnresolved(cidr) && !isCidr(cidr)) {
        throw constructError(this, `allowedCidrs entry '${cidr}' is not an IPv4 or IPv6 CIDR: use an address and a prefix length `
          + '(for example 10.0.0.0/8, 203.0.113.7/32 or 2001:db8::/32)');
      }
    }
    const healthCheckPath = props.healthCheckPath ?? '/';
    if (!Token.isUnresolved(healthCheckPath) && !/^\/[^\s]{0,1023}$/.test(healthCheckPath)) {
      throw constructError(this, `healthCheckPath '${healthCheckPath}' must start with '/' (for example '/health'), up to 1,024 characters without spaces`);
    }
    if (props.capacityProviderStrategies) withPath(this, () => validateStrategy(props.capacityProviderStrategies!));
    const desiredCount = props.desiredCount ?? 2;
    const minCapacity = props.minCapacity ?? desiredCount;
    const maxCapacity = props.maxCapacity ?? Math.max(minCapacity * 4, 1);
    if (minCapacity < 0 || maxCapacity < minCapacity || maxCapacity < 1) {
      throw constructError(this, `capacity must satisfy 0 <= minCapacity (${minCapacity}) <= maxCapacity (${maxCapacity}) and maxCapacity >= 1`);
    }
    const targetCpu = props.targetCpuUtilization ?? 60;
    if (targetCpu <= 0 || targetCpu > 100) throw constructError(this, `targetCpuUtilization must be above 0 and at most 100, got ${targetCpu}`);

    // Network and cluster.
    if (props.cluster && props.vpc) {
      Annotations.of(this).addWarningV2(warningId('hybrid-service', 'vpcWithCluster'),
        `${this.node.path}: vpc is ignored because cluster is given (the service runs in the cluster's VPC): drop vpc, or drop cluster to get a new cluster in vpc`);
    }
    this.cluster = clusterFor(this, props.cluster, props.vpc);
    const vpc = this.cluster.vpc;
    if (internetFacing && vpc.publicSubnets.length === 0) {
      throw constructError(this, 'an internet-facing service needs public subnets, but its VPC has none (a JobVpc with natGateways: 0 is isolated): '
        + 'pass a vpc or cluster with public subnets, or set internetFacing: false');
    }

    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc, allowAllOutbound: false, description: `Load balancer of ${this.node.path}: listener ports from the allowed CIDRs only`,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing,
      vpcSubnets: internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : privateSubnets(vpc),
      securityGroup: lbSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
    });
    const listenerPort = this.protocol === ServiceProtocol.HTTPS ? 443 : 80;
    this.connections = new ec2.Connections({ securityGroups: [lbSecurityGroup], defaultPort: ec2.Port.tcp(listenerPort) });
    const ports = this.protocol === ServiceProtocol.HTTPS ? [443, 80] : [80];
    for (const cidr of allowedCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      for (const port of ports) lbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(port), `listener ${port} from ${cidr}`);
    }

    // Access logs. The log-delivery principal differs by region (the region's
    // ELB account before August 2022, a service principal after), so the
    // bucket policy needs a concrete region.
    if (Token.isUnresolved(Stack.of(this).region)) {
      throw new Error(`${this.node.path} needs its stack's region to grant the region's ELB log-delivery principal on the access log bucket: `
        + 'set env: { region } on the stack (the account may stay unresolved)');
    }
    this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket(props.accessLogsExpiration ?? Duration.days(90));
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');

    // The Fargate service.
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = libraryLogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      purpose: `the container log group of the ${this.node.path} service`,
      encryptionKey: props.logEncryptionKey,
    });
    this.taskDefinition.addContainer('Container', {
      containerName: 'web',
      image: props.image,
      essential: true,
      portMappings: [{ containerPort }],
      environment: props.environment,
      secrets: props.secrets,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'web', logGroup }),
    });
    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc, allowAllOutbound: true, description: `Tasks of ${this.node.path}: the container port from the load balancer only`,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount,
      securityGroups: [serviceSecurityGroup],
      vpcSubnets: privateSubnets(vpc),
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: props.enableExecuteCommand ?? false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      ...(props.capacityProviderStrategies ? { capacityProviderStrategies: props.capacityProviderStrategies } : {}),
    });

    // Listeners: the service is the default action, Lambda routes are rules.
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'ServiceTargetGroup', {
      vpc,
      port: containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.service.loadBalancerTarget({ containerName: 'web', containerPort })],
      healthCheck: { path: healthCheckPath, healthyHttpCodes: '200-399', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });
    if (this.protocol === ServiceProtocol.HTTPS) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [props.certificate!],
        sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultTargetGroups: [this.targetGroup],
      });
      this.redirectListener = this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: false, defaultTargetGroups: [this.targetGroup],
      });
      Annotations.of(this).addWarningV2(warningId('hybrid-service', 'http'),
        `${this.node.path} listens on plain HTTP: pass a certificate to serve HTTPS (port 80 then redirects to 443)`);
    }

    // Scaling.
    const scaling = this.service.autoScaleTaskCount({ minCapacity, maxCapacity });
    const scaleInCooldown = props.scaleInCooldown ?? Duration.minutes(5);
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: targetCpu, scaleInCooldown, scaleOutCooldown: Duration.minutes(1) });
    if (props.requestsPerTarget !== undefined) {
      if (props.requestsPerTarget < 1) throw constructError(this, `requestsPerTarget must be at least 1, got ${props.requestsPerTarget}`);
      scaling.scaleOnRequestCount('Requests', {
        requestsPerTarget: props.requestsPerTarget, targetGroup: this.targetGroup, scaleInCooldown, scaleOutCooldown: Duration.minutes(1),
      });
    }

    if (props.webAcl) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: props.webAcl.webAclRef.webAclArn,
      });
    }

    for (const route of props.lambdaRoutes ?? []) {
      const { id: routeId, ...options } = route;
      this.addLambdaRoute(routeId, options);
    }

    this.alarms = this.createAlarms(props.alarmTopic);
    this.acknowledgeNagFindings(allowedCidrs, props.enableExecuteCommand ?? false);
    this.acknowledgeComplianceFindings(props);
  }

  /**
   * Serves requests that match `pathPatterns` / `hostHeaders` with a Lambda
   * function, on the same listener. The function may be invoked only by this
   * route's target group.
   */
  public addLambdaRoute(id: string, options: LambdaRouteOptions): elbv2.ApplicationTargetGroup {
    withPath(this, () => validateRoute(id, options, this.routes));
    this.routes.push({ id, ...options });
    const scope = new Construct(this, id);
    // A named target group, so the invoke permission can name it without a
    // circular reference (the target group registers the function, which
    // needs the permission first).
    const name = `hc-${Names.uniqueResourceName(scope, { maxLength: 29, separator: '-' }).slice(-29)}`.replace(/-+$/, '').slice(0, 32);
    const stack = Stack.of(this);
    const targetGroupArnPattern = stack.formatArn({
      service: 'elasticloadbalancing', resource: 'targetgroup', resourceName: `${name}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const permission = new lambda.CfnPermission(scope, 'InvokePermission', {
      action: 'lambda:InvokeFunction',
      functionName: options.function.functionArn,
      principal: 'elasticloadbalancing.amazonaws.com',
      sourceArn: targetGroupArnPattern,
      sourceAccount: stack.account,
    });
    const targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
      targetGroupName: name,
      targetType: elbv2.TargetType.LAMBDA,
      targets: [{
        attachToApplicationTargetGroup: () => ({ targetType: elbv2.TargetType.LAMBDA, targetJson: { id: options.function.functionArn } }),
      }],
    });
    if (options.multiValueHeaders) targetGroup.setAttribute('lambda.multi_value_headers.enabled', 'true');
    targetGroup.node.addDependency(permission);
    this.listener.addTargetGroups(id, {
      priority: options.priority,
      conditions: [
        ...(options.pathPatterns?.length ? [elbv2.ListenerCondition.pathPatterns(options.pathPatterns)] : []),
        ...(options.hostHeaders?.length ? [elbv2.ListenerCondition.hostHeaders(options.hostHeaders)] : []),
      ],
      targetGroups: [targetGroup],
    });
    return targetGroup;
  }

  /** 5xx responses from the service's targets. */
  public metricTarget5xxCount(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(5), ...options });
  }

  /** 5xx responses the load balancer itself returned (no healthy target, Lambda errors, …). */
  public metricLoadBalancer5xxCount(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(5), ...options });
  }

  /** Response time of the service's targets (p90 by default). */
  public metricTargetResponseTime(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.targetGroup.metrics.targetResponseTime({ statistic: 'p90', period: Duration.minutes(5), ...options });
  }

  /** Requests the load balancer received. */
  public metricRequestCount(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.loadBalancer.metrics.requestCount({ statistic: 'Sum', period: Duration.minutes(5), ...options });
  }

  private createAccessLogsBucket(expiration: Duration): s3.Bucket {
    const holds = `This bucket holds the access logs of the load balancer of ${this.node.path}`;
    return secureBucket(this, 'AccessLogs', [{ expiration }], {
      accessLog: `${holds}; logging access to the log bucket itself would need yet another bucket.`,
      replication: `${holds}, kept for accessLogsExpiration (${expiration.toHumanString()}); to replicate them, pass a bucket of yours with `
        + 'replication as accessLogsBucket.',
      versioning: `${holds}: ELB log delivery writes each log object once, under a unique key, and never overwrites it.`,
      kms: `${holds}: ALB access log delivery supports only SSE-S3 (Amazon S3-managed keys), not SSE-KMS.`,
    });
  }

  private createAlarms(topic: sns.ITopic | undefined): cloudwatch.Alarm[] {
    const alarms = new AlarmFactory(new Construct(this, 'Alarms'), this, topic);
    alarms.add('Target5xxRate', '5% or more of the requests to the service\'s targets got a 5xx over 5 minutes', new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, errors / requests, 0)',
      usingMetrics: { errors: this.metricTarget5xxCount(), requests: this.targetGroup.metrics.requestCount({ statistic: 'Sum', period: Duration.minutes(5) }) },
      period: Duration.minutes(5),
      label: 'target 5xx rate',
    }), 0.05);
    alarms.add('UnhealthyHosts', 'a target of the service has been unhealthy for 3 minutes',
      this.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }), 1, 3);
    return alarms.alarms;
  }

  /**
   * What the NIST 800-53 R5 and HIPAA packs report about the service's own
   * resources, acknowledged where it is the caller's stated choice (no
   * certificate, no web ACL, no deletion protection: synth warns about HTTP)
   * or the resource's nature.
   */
  private acknowledgeComplianceFindings(props: HybridServiceProps): void {
    acknowledgeCompliance(this.taskDefinition, [{
      rule: 'IAMNoInlinePolicy',
      reason: `The task and execution roles of the ${this.node.path} service are used by its task definition alone: their inline default `
        + 'policies hold exactly the grants made to them (a strict one-to-one policy, the case AWS recommends inline policies for).',
    }]);
    if (this.protocol === ServiceProtocol.HTTP) {
      acknowledgeCompliance(this.listener, [
        {
          rule: 'ALBHttpToHttpsRedirection',
          reason: `The listener of ${this.node.path} serves plain HTTP because no certificate was given (synth warns): pass certificate to `
            + 'serve HTTPS on 443, with this port redirecting to it.',
        },
        {
          rule: 'ELBv2ACMCertificateRequired',
          reason: `The listener of ${this.node.path} has no certificate because none was given (synth warns about plain HTTP): pass `
            + 'certificate, an ACM certificate of the service\'s domain, to serve HTTPS.',
        },
      ]);
    } else if (this.redirectListener) {
      acknowledgeCompliance(this.redirectListener, [{
        rule: 'ELBv2ACMCertificateRequired',
        reason: `The port 80 listener of ${this.node.path} only redirects to HTTPS on 443 (which has the certificate); it serves nothing itself.`,
      }]);
    }
    const acks = [];
    if (!props.webAcl) {
      acks.push({
        rule: 'ALBWAFEnabled',
        reason: `No webAcl was given for the load balancer of ${this.node.path}: a WAF web ACL's rules depend on the application (and cost `
          + '$5 a month per ACL plus $1 per rule), so pass webAcl to associate yours.',
      });
    }
    if (!(props.deletionProtection ?? false)) {
      acks.push({
        rule: 'ELBDeletionProtectionEnabled',
        reason: `The load balancer of ${this.node.path} holds no data and is deleted with the stack (plumbing is deleted, records are kept); `
          + 'set deletionProtection: true to protect it.',
      });
    }
    acknowledgeCompliance(this.loadBalancer, acks);
  }

  private acknowledgeNagFindings(allowedCidrs: string[], exec: boolean): void {
    if (allowedCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
      acknowledgeNag(this.connections.securityGroups[0], [{
        id: 'AwsSolutions-EC23',
        reason: 'allowedCidrs explicitly names every address (0.0.0.0/0 or ::/0): the service is public by the caller\'s choice, on the listener ports only.',
      }]);
    }
    if (exec) {
      const policy = this.taskDefinition.taskRole.node.tryFindChild('DefaultPolicy');
      if (policy) {
        acknowledgeWildcardResources(policy, [{
          matches: (resource, actions) => resource === '*' && actions.every((a) => a.startsWith('ssmmessages:')),
          reason: 'ECS Exec (enableExecuteCommand) needs ssmmessages channel actions, which support no resource-level permissions.',
        }]);
      }
    }
  }
}

function validateRoute(id: string, options: LambdaRouteOptions, routes: ReadonlyArray<LambdaRouteOptions & { readonly id: string }>): void {
  const { priority } = options;
  if (!Token.isUnresolved(priority) && (!Number.isInteger(priority) || priority < 1 || priority > 50000)) {
    throw new Error(`Lambda route '${id}': priority must be a whole number from 1 to 50,000, got ${priority}`);
  }
  const clash = routes.find((r) => r.priority === priority);
  if (clash !== undefined) {
    throw new Error(`Lambda route '${id}': priority ${priority} is already used by route '${clash.id}': give each route its own priority`);
  }
  const paths = options.pathPatterns ?? [];
  const hosts = options.hostHeaders ?? [];
  if (paths.length === 0 && hosts.length === 0) {
    throw new Error(`Lambda route '${id}' matches nothing: give pathPatterns, hostHeaders or both`);
  }
  if (paths.length + hosts.length > 5) {
    throw new Error(`Lambda route '${id}' has ${paths.length + hosts.length} path and host values; an ALB rule allows 5 in all: split it into several routes`);
  }
  for (const p of paths) {
    if (!Token.isUnresolved(p) && !PATH_PATTERN.test(p)) {
      throw new Error(`Lambda route '${id}': path pattern '${p}' must be 1-128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?`);
    }
    if (!Token.isUnresolved(p) && !p.startsWith('/') && !p.startsWith('*')) {
      throw new Error(`Lambda route '${id}': path pattern '${p}' must start with '/' (request paths do: for example '/${p}'), or with a '*' wildcard`);
    }
  }
  // Same paths and hosts as an earlier route: the rule with the lower
  // priority number always wins, the other never receives a request.
  const same = routes.find((r) => sameValues(r.pathPatterns, paths) && sameValues(r.hostHeaders, hosts));
  if (same !== undefined) {
    throw new Error(`Lambda route '${id}' matches the same path patterns and host headers as route '${same.id}', so one of them would never `
      + 'receive a request: change the pathPatterns or hostHeaders of one of them, or serve both from one function');
  }
  for (const h of hosts) {
    if (!Token.isUnresolved(h) && !HOST_HEADER.test(h)) {
      throw new Error(`Lambda route '${id}': host header '${h}' must be 1-128 characters of A-Z a-z 0-9 - . * ?`);
    }
  }
}
