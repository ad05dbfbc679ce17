import {
  Annotations, aws_ec2 as ec2, aws_ecs as ecs, aws_iam as iam, aws_kms as kms, aws_logs as logs, Token,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { grantAll, launchPermissions, tagOnLaunchPermission } from './grants';
import { JobCapacity } from './job-capacity';
import { JobField } from './job-field';
import { validateFargateSize } from '../contract/fargate-sizes';
import { warningId } from '../contract/names';
import { constructError, withPath } from '../internal/errors';
import { libraryLogGroup } from '../internal/log-group';
import { acknowledgeCompliance } from '../internal/nag';
import { privateSubnets } from '../internal/subnets';
import { clusterFor } from '../network/default-cluster';

/** A containerized unit of work that runs once per job on Fargate. */
export interface IFargateJob extends IConstruct, ec2.IConnectable {
  /** The task definition launched for every job. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** The cluster jobs run in. */
  readonly cluster: ecs.ICluster;
  /** Name of the job's essential container. */
  readonly containerName: string;
  /** Role the container runs as. */
  readonly taskRole: iam.IRole;
  /** Role ECS uses to pull the image, write logs and read secrets. */
  readonly executionRole: iam.IRole;
  /** Subnets tasks are placed in (private, no public IP). */
  readonly subnetIds: string[];
  /** Security groups of the tasks. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /** Environment entries that contain `JobField` markers, resolved per job by a dispatcher. */
  readonly launchEnvironment: { [name: string]: string };
  /**
   * The command, when it contains `JobField` markers (resolved per job).
   * @default - the command is static and lives in the task definition
   */
  readonly launchCommand?: string[];
  /** Where the job's tasks run (on-demand, Spot with fallback, or a custom strategy). */
  readonly capacity: JobCapacity;
  /**
   * The Fargate platform version of every launch.
   * @default - none: ECS uses LATEST
   */
  readonly platformVersion?: ecs.FargatePlatformVersion;

  /**
   * Grants exactly what launching this job needs: `ecs:RunTask` on the task
   * definition family in this cluster, `iam:PassRole` on the task and
   * execution roles to ECS tasks only, and `ecs:TagResource` at launch only.
   */
  grantRun(grantee: iam.IGrantable): iam.Grant;
}

/** Properties of a `FargateJob`. */
export interface FargateJobProps {
  /** The container image. */
  readonly image: ecs.ContainerImage;

  /**
   * The command. Entries may contain `JobField` markers.
   * @default - the image's CMD
   */
  readonly command?: string[];

  /**
   * The entry point.
   * @default - the image's ENTRYPOINT
   */
  readonly entryPoint?: string[];

  /**
   * Environment variables. Values may contain `JobField` markers; those
   * entries are passed as overrides at launch, the others live in the task
   * definition.
   * @default - none
   */
  readonly environment?: { [name: string]: string };

  /**
   * Secrets from Secrets Manager or SSM Parameter Store, injected by ECS.
   * @default - none
   */
  readonly secrets?: { [name: string]: ecs.Secret };

  /**
   * CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384.
   * @default 256
   */
  readonly cpu?: number;

  /**
   * Memory in MiB, valid for the chosen `cpu` on Fargate.
   * @default 512
   */
  readonly memoryLimitMiB?: number;

  /**
   * CPU architecture.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * Ephemeral storage in GiB, 21 to 200.
   * @default - 20 GiB, the Fargate default
   */
  readonly ephemeralStorageGiB?: number;

  /**
   * Name of the essential container.
   * @default 'job'
   */
  readonly containerName?: string;

  /**
   * Task definition family.
   * @default - derived from the construct path
   */
  readonly family?: string;

  /**
   * The cluster to run in.
   * @default - with `vpc`, a new cluster in it (Container Insights, Fargate and Fargate Spot
   * capacity providers); without, the stack's shared cluster `JobVpc.ofStack(this).defaultCluster()`
   */
  readonly cluster?: ecs.ICluster;

  /**
   * The VPC of the cluster this job creates. Ignored when `cluster` is given.
   * @default - the stack's shared `JobVpc` (`JobVpc.ofStack(this)`: 2 AZs, 1 NAT gateway, flow logs) and its cluster
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets tasks run in. Tasks never get a public IP.
   * @default - the private subnets: with egress, or isolated when the VPC has none
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the tasks.
   * @default - a new security group with no ingress and all egress
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Where tasks run: `JobCapacity.onDemand()`, `JobCapacity.spot()` (falls
   * back to on-demand when Spot has no capacity) or `JobCapacity.custom()`.
   * @default JobCapacity.onDemand()
   */
  readonly capacity?: JobCapacity;

  /**
   * The Fargate platform version every launch (dispatcher or workflow) asks for.
   * @default - none: ECS uses LATEST
   */
  readonly platformVersion?: ecs.FargatePlatformVersion;

  /**
   * Role the container runs as.
   * @default - a new role with no permissions
   */
  readonly taskRole?: iam.IRole;

  /**
   * Log group of the container.
   * @default - a new log group with `logRetention`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Retention of the log group this job creates.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * KMS key of the log group this job creates (its policy must let
   * CloudWatch Logs use it; a key of this app gets that statement).
   * @default - CloudWatch Logs' service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * A containerized unit of work that runs once per job on Fargate: task
 * definition, one essential container with logs, task and execution roles,
 * a security group with no ingress, and placement in private subnets.
 */
export class FargateJob extends Construct implements IFargateJob {
  public readonly taskDefinition: ecs.TaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly cluster: ecs.ICluster;
  public readonly containerName: string;
  public readonly taskRole: iam.IRole;
  public readonly executionRole: iam.IRole;
  public readonly subnetIds: string[];
  public readonly securityGroups: ec2.ISecurityGroup[];
  public readonly connections: ec2.Connections;
  public readonly logGroup: logs.ILogGroup;
  public readonly launchEnvironment: { [name: string]: string };
  public readonly launchCommand?: string[];
  public readonly capacity: JobCapacity;
  public readonly platformVersion?: ecs.FargatePlatformVersion;

  constructor(scope: Construct, id: string, props: FargateJobProps) {
    super(scope, id);
    const cpu = props.cpu ?? 256;
    const memoryLimitMiB = props.memoryLimitMiB ?? 512;
    if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memoryLimitMiB)) {
      withPath(this, () => validateFargateSize(cpu, memoryLimitMiB));
    }
    const storage = props.ephemeralStorageGiB;
    if (storage !== undefined && !Token.isUnresolved(storage) && (storage < 21 || storage > 200 || !Number.isInteger(storage))) {
      throw constructError(this, `ephemeralStorageGiB must be a whole number from 21 to 200, got ${storage}`);
    }
    this.containerName = props.containerName ?? 'job';
    rejectMarkers(this, 'containerName', this.containerName);
    rejectMarkers(this, 'family', props.family);
    rejectMarkers(this, 'entryPoint', ...(props.entryPoint ?? []));
    for (const name of Object.keys(props.environment ?? {})) {
      rejectMarkers(this, `the name of environment variable '${name}'`, name);
    }

    const environment = props.environment ?? {};
    const staticEnv: { [name: string]: string } = {};
    const launchEnv: { [name: string]: string } = {};
    for (const [name, value] of Object.entries(environment)) {
      (JobField.containsField(value) ? launchEnv : staticEnv)[name] = value;
    }
    this.launchEnvironment = launchEnv;
    const dynamicCommand = (props.command ?? []).some((c) => JobField.containsField(c));
    this.launchCommand = dynamicCommand ? [...props.command!] : undefined;

    this.capacity = props.capacity ?? JobCapacity.onDemand();
    this.platformVersion = props.platformVersion;
    if (props.cluster && this.capacity.strategy) {
      Annotations.of(this).addWarningV2(warningId('fargate-job', 'capacityProviders'),
        `the capacity of ${this.node.path} uses capacity providers (${this.capacity.strategy.map((s) => s.capacityProvider).join(', ')}): `
        + 'make sure the cluster you passed has them associated (ecs.Cluster enableFargateCapacityProviders), or RunTask fails');
    }
    if (props.cluster && props.vpc) {
      Annotations.of(this).addWarningV2(warningId('fargate-job', 'vpcWithCluster'),
        `${this.node.path}: vpc is ignored because cluster is given (the job runs in the cluster's VPC): drop vpc, or drop cluster to get a new cluster in vpc`);
    }
    this.cluster = clusterFor(this, props.cluster, props.vpc);

    this.taskRole = props.taskRole ?? new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Task role of the ${this.node.path} job`,
    });
    const executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Execution role of the ${this.node.path} job`,
    });
    this.executionRole = executionRole;

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: props.family,
      cpu,
      memoryLimitMiB,
      ephemeralStorageGiB: storage,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
      executionRole,
    });

    this.logGroup = props.logGroup ?? libraryLogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      purpose: `the container log group of the ${this.node.path} job`,
      encryptionKey: props.logEncryptionKey,
    });

    this.container = this.taskDefinition.addContainer('Container', {
      containerName: this.containerName,
      image: props.image,
      essential: true,
      entryPoint: props.entryPoint,
      command: dynamicCommand ? undefined : props.command,
      environment: Object.keys(staticEnv).length > 0 ? staticEnv : undefined,
      secrets: props.secrets,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'job', logGroup: this.logGroup }),
    });
    rejectMarkers(this, 'image', this.container.imageName);

    const vpc = this.cluster.vpc;
    this.subnetIds = vpc.selectSubnets(props.vpcSubnets ?? privateSubnets(vpc)).subnetIds;
    if (this.subnetIds.length === 0) {
      throw new Error(`no subnets selected for ${this.node.path}: pass vpcSubnets that match subnets of the cluster's VPC`);
    }
    this.securityGroups = props.securityGroups ?? [new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Tasks of the ${this.node.path} job (no ingress)`,
      allowAllOutbound: true,
    })];
    if (this.securityGroups.length === 0 || this.securityGroups.length > 5) {
      throw constructError(this, `a Fargate task takes 1 to 5 security groups, got ${this.securityGroups.length}`);
    }
    this.connections = new ec2.Connections({ securityGroups: this.securityGroups });
    for (const role of [...(props.taskRole ? [] : [this.taskRole]), executionRole]) {
      const which = role === executionRole ? 'execution role (image pull, logs, secrets)' : 'task role';
      acknowledgeCompliance(role, [{
        rule: 'IAMNoInlinePolicy',
        reason: `The ${which} of the ${this.node.path} job is used by its tasks alone: its inline default policy holds exactly the grants `
          + 'made to this role (a strict one-to-one policy, the case AWS recommends inline policies for), so it cannot be attached elsewhere.',
      }]);
    }
  }

  public grantRun(grantee: iam.IGrantable): iam.Grant {
    return grantAll(grantee, [...launchPermissions(this), tagOnLaunchPermission(this)]);
  }
}

function rejectMarkers(scope: Construct, what: string, ...values: Array<string | undefined>): void {
  for (const value of values) {
    if (value !== undefined && !Token.isUnresolved(value) && JobField.containsField(value)) {
      throw constructError(scope, `JobField markers cannot be used in ${what} ('${value}'): they only resolve in environment values and command entries`);
    }
  }
}
