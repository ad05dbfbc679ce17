import { Annotations, Stack, Token, aws_ec2 as ec2, aws_ecs as ecs, aws_kms as kms, aws_logs as logs } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { warningId } from '../contract/names';
import { constructError } from '../internal/errors';
import { libraryLogGroup } from '../internal/log-group';
import { acknowledgeCompliance } from '../internal/nag';

/**
 * A VPC endpoint a `JobVpc` can create, so tasks and functions reach an AWS
 * service without a NAT gateway. Gateway endpoints (S3, DynamoDB) are free;
 * an interface endpoint costs about $0.01 an hour per AZ (us-east-1,
 * about $7.30 a month per AZ) plus data processed, and `ECR` is two of them.
 */
export class JobVpcEndpoint {
  /** S3 (gateway, free): ECR image layers, claim-check documents, your job's objects. */
  public static readonly S3 = new JobVpcEndpoint('S3', ec2.GatewayVpcEndpointAwsService.S3, []);
  /** DynamoDB (gateway, free): the job ledger, for a dispatcher whose functions run in the VPC. */
  public static readonly DYNAMODB = new JobVpcEndpoint('DynamoDb', ec2.GatewayVpcEndpointAwsService.DYNAMODB, []);
  /** ECR API and Docker registry (two interface endpoints): pulling private ECR images. */
  public static readonly ECR = new JobVpcEndpoint('Ecr', undefined, [ec2.InterfaceVpcEndpointAwsService.ECR, ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER]);
  /** CloudWatch Logs (interface): the awslogs driver of tasks. */
  public static readonly CLOUDWATCH_LOGS = new JobVpcEndpoint('Logs', undefined, [ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS]);
  /** ECS (interface): RunTask, ListTasks, StopTask from a dispatcher or tracker in the VPC. */
  public static readonly ECS = new JobVpcEndpoint('Ecs', undefined, [ec2.InterfaceVpcEndpointAwsService.ECS]);
  /** SQS (interface): a dispatcher or tracker in the VPC sending to its queues; jobs that use queues. */
  public static readonly SQS = new JobVpcEndpoint('Sqs', undefined, [ec2.InterfaceVpcEndpointAwsService.SQS]);
  /** STS (interface): jobs that assume roles or use web identity. */
  public static readonly STS = new JobVpcEndpoint('Sts', undefined, [ec2.InterfaceVpcEndpointAwsService.STS]);
  /** EventBridge (interface): the tracker's `Job Succeeded` / `Job Failed` events from the VPC. */
  public static readonly EVENTBRIDGE = new JobVpcEndpoint('Events', undefined, [ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE]);
  /** X-Ray (interface): traces of the library's functions when they run in the VPC. */
  public static readonly XRAY = new JobVpcEndpoint('XRay', undefined, [ec2.InterfaceVpcEndpointAwsService.XRAY]);
  /** Lambda (interface): a route's dispatcher in the VPC invoking its Lambda workers. */
  public static readonly LAMBDA = new JobVpcEndpoint('Lambda', undefined, [ec2.InterfaceVpcEndpointAwsService.LAMBDA]);
  /** Step Functions (interface): a workflow dispatcher in the VPC, or task-token jobs answering their workflow. */
  public static readonly STEP_FUNCTIONS = new JobVpcEndpoint('StepFunctions', undefined, [ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS]);
  /** Secrets Manager (interface): task secrets from Secrets Manager. */
  public static readonly SECRETS_MANAGER = new JobVpcEndpoint('SecretsManager', undefined, [ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]);
  /** Systems Manager (interface): task secrets from Parameter Store. */
  public static readonly SSM = new JobVpcEndpoint('Ssm', undefined, [ec2.InterfaceVpcEndpointAwsService.SSM]);
  /** KMS (interface): jobs that decrypt with customer-managed keys. */
  public static readonly KMS = new JobVpcEndpoint('Kms', undefined, [ec2.InterfaceVpcEndpointAwsService.KMS]);

  /**
   * What a `FargateJob` in isolated subnets needs to start: S3 (image
   * layers), ECR (the image) and CloudWatch Logs (its log group). Add what the
   * job itself calls, and `SECRETS_MANAGER` / `SSM` for secrets. Images from
   * public registries (Docker Hub, public.ecr.aws) need a NAT gateway or an
   * ECR pull-through cache.
   */
  public static forFargateJobs(): JobVpcEndpoint[] {
    return [JobVpcEndpoint.S3, JobVpcEndpoint.ECR, JobVpcEndpoint.CLOUDWATCH_LOGS];
  }

  /**
   * Any other AWS service's interface endpoint.
   * @param name construct id of the endpoint, unique in the VPC (`<name>Endpoint`)
   */
  public static interfaceEndpoint(name: string, service: ec2.InterfaceVpcEndpointAwsService): JobVpcEndpoint {
    return new JobVpcEndpoint(name, undefined, [service]);
  }

  private constructor(
    /** Construct id prefix of the endpoint (`<name>Endpoint`). */
    public readonly name: string,
    private readonly gatewayService: ec2.GatewayVpcEndpointAwsService | undefined,
    private readonly interfaceServices: ec2.InterfaceVpcEndpointAwsService[],
  ) {}

  /** Whether this creates interface endpoints (which need the endpoints' security group). @internal */
  public get _isInterface(): boolean {
    return this.interfaceServices.length > 0;
  }

  /** Creates the endpoint(s) in `vpc`, in the subnets tasks run in, interface endpoints in `securityGroup`. @internal */
  public _addTo(vpc: ec2.Vpc, subnets: ec2.SubnetSelection, securityGroup: ec2.ISecurityGroup | undefined): void {
    if (this.gatewayService) {
      vpc.addGatewayEndpoint(`${this.name}Endpoint`, { service: this.gatewayService, subnets: [subnets] });
    }
    this.interfaceServices.forEach((service, i) => {
      const suffix = this.interfaceServices.length > 1 ? String(i + 1) : '';
      vpc.addInterfaceEndpoint(`${this.name}${suffix}Endpoint`, {
        service, subnets, privateDnsEnabled: true, open: false, securityGroups: [securityGroup!],
      });
    });
  }
}

/** The address range of every `JobVpc` (CDK's default, written out so security group rules name it literally). */
const JOB_VPC_CIDR = '10.0.0.0/16';

/** Properties of a `JobVpc`. */
export interface JobVpcProps {
  /**
   * Availability Zones to span.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * NAT gateways for the private subnets' egress (image pulls, AWS APIs).
   * One per AZ survives an AZ failure; one in total costs less (about
   * $32.85 a month each in us-east-1, plus data processed). With 0 the VPC
   * has isolated subnets only (no public subnets, no internet gateway):
   * tasks reach AWS through `endpoints` alone.
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * VPC endpoints to create in the private subnets: `JobVpcEndpoint.S3`
   * (free) and interface endpoints such as `JobVpcEndpoint.ECR`.
   * `JobVpcEndpoint.forFargateJobs()` is what a job with a private ECR image
   * needs without a NAT gateway.
   * @default - none
   */
  readonly endpoints?: JobVpcEndpoint[];

  /**
   * Retention of the VPC flow logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * KMS key of the flow log group (its policy must let CloudWatch Logs use
   * it; a key of this app gets that statement).
   * @default - CloudWatch Logs' service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Remove every rule of the VPC's default security group (CDK adds a
   * custom resource, a Lambda function, to do it). Nothing in this library
   * uses the default security group.
   * @default false
   */
  readonly restrictDefaultSecurityGroup?: boolean;
}

/**
 * A VPC to run jobs in when you bring none: private subnets for tasks (with
 * NAT egress, or isolated with VPC endpoints only), public subnets for the
 * NAT gateways only, optional VPC endpoints, and flow logs of all traffic to
 * a CloudWatch log group with retention.
 *
 * Constructs given neither a cluster nor a VPC share one per stack:
 * `JobVpc.ofStack(scope)`, at the stack's `JobVpc` id, with its
 * `defaultCluster()`. Create `new JobVpc(stack, JobVpc.STACK_DEFAULT_ID, props)`
 * before them to choose its settings (NAT gateways, endpoints).
 */
export class JobVpc extends Construct {
  /** The id of the stack's shared `JobVpc` (`<stack>/JobVpc`). */
  public static readonly STACK_DEFAULT_ID = 'JobVpc';

  /**
   * The `JobVpc` that constructs given neither a cluster nor a VPC use: the
   * one at `JobVpc.STACK_DEFAULT_ID` in `scope`'s stack, created with the
   * defaults (2 AZs, 1 NAT gateway) if it does not exist yet.
   */
  public static ofStack(scope: IConstruct): JobVpc {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(JobVpc.STACK_DEFAULT_ID);
    if (existing instanceof JobVpc) return existing;
    if (existing) {
      throw new Error(`${stack.node.path} has a construct with id '${JobVpc.STACK_DEFAULT_ID}' that is not a JobVpc, but that id is where `
        + 'constructs given no cluster or vpc find the stack\'s shared JobVpc: rename that construct, or pass cluster or vpc to them');
    }
    return new JobVpc(stack, JobVpc.STACK_DEFAULT_ID);
  }

  /** The VPC. */
  public readonly vpc: ec2.Vpc;

  /** The flow log group. */
  public readonly flowLogGroup: logs.LogGroup;

  /** NAT gateways of the VPC. */
  public readonly natGateways: number;

  constructor(scope: Construct, id: string, props: JobVpcProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    const natGateways = props.natGateways ?? 1;
    if (!Token.isUnresolved(maxAzs) && maxAzs < 1) {
      throw constructError(this, `maxAzs must be at least 1, got ${maxAzs}`);
    }
    if (!Token.isUnresolved(natGateways) && (!Number.isInteger(natGateways) || natGateways < 0 || natGateways > maxAzs)) {
      throw constructError(this, `natGateways must be a whole number from 0 (isolated subnets, VPC endpoints only) to maxAzs (${maxAzs}), got ${natGateways}`);
    }
    this.natGateways = natGateways;
    const endpoints = props.endpoints ?? [];
    const names = endpoints.map((e) => e.name);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated) {
      throw constructError(this, `endpoints lists the ${repeated} endpoint twice: list each once`);
    }
    if (natGateways === 0 && endpoints.length === 0) {
      Annotations.of(this).addWarningV2(warningId('job-vpc', 'isolatedWithoutEndpoints'),
        `${this.node.path} has no NAT gateway and no endpoints: tasks in its isolated subnets cannot pull images or write logs. `
        + 'Pass endpoints (JobVpcEndpoint.forFargateJobs() for private ECR images), add them to vpc yourself, or use natGateways: 1');
    }
    const isolated = natGateways === 0;
    this.vpc = new ec2.Vpc(this, 'Resource', {
      ipAddresses: ec2.IpAddresses.cidr(JOB_VPC_CIDR),
      maxAzs,
      natGateways,
      subnetConfiguration: isolated
        ? [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }]
        : [
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
      restrictDefaultSecurityGroup: props.restrictDefaultSecurityGroup ?? false,
    });
    const taskSubnets = { subnetType: isolated ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS };
    // One security group for every interface endpoint: HTTPS from the VPC's own range, nothing else.
    const endpointSecurityGroup = endpoints.some((e) => e._isInterface) ? new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc, allowAllOutbound: false, description: `Interface endpoints of ${this.node.path}: HTTPS from the VPC only`,
    }) : undefined;
    endpointSecurityGroup?.addIngressRule(ec2.Peer.ipv4(JOB_VPC_CIDR), ec2.Port.tcp(443), 'HTTPS from the VPC');
    for (const endpoint of endpoints) endpoint._addTo(this.vpc, taskSubnets, endpointSecurityGroup);

    this.flowLogGroup = libraryLogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      purpose: `the VPC flow log of ${this.node.path}`,
      encryptionKey: props.logEncryptionKey,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    this.acknowledgeNagFindings(flowLog, props.restrictDefaultSecurityGroup ?? false);
  }

  /**
   * The ECS cluster of this VPC for the constructs given neither a cluster
   * nor a VPC (Container Insights, the FARGATE and FARGATE_SPOT capacity
   * providers), created at `<JobVpc>/Cluster` on first use.
   */
  public defaultCluster(): ecs.Cluster {
    const existing = this.node.tryFindChild('Cluster');
    if (existing instanceof ecs.Cluster) return existing;
    return new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
    });
  }

  private acknowledgeNagFindings(flowLog: ec2.FlowLog, restricted: boolean): void {
    acknowledgeCompliance(flowLog, [{
      rule: 'IAMNoInlinePolicy',
      reason: `The role of the flow log of ${this.node.path} is used by VPC Flow Logs alone: its inline policy writes that flow log group `
        + 'and nothing else (a strict one-to-one policy, the case AWS recommends inline policies for).',
    }]);
    if (!restricted) {
      acknowledgeCompliance(this.vpc, [{
        rule: 'VPCDefaultSecurityGroupClosed',
        reason: `Nothing in the VPC of ${this.node.path} uses its default security group: every task, function, endpoint and load balancer `
          + 'gets a group of its own. Closing it takes a custom-resource Lambda function (restrictDefaultSecurityGroup: true).',
      }]);
    }
    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeCompliance(subnet, [{
        rule: 'VPCNoUnrestrictedRouteToIGW',
        reason: `This public subnet of the VPC of ${this.node.path} holds the NAT gateway (and an internet-facing load balancer when one `
          + 'is asked for): its route to the internet gateway is the private subnets\' egress. Tasks run in the private subnets without '
          + 'public IPs; natGateways: 0 removes the public subnets.',
      }]);
    }
  }
}
