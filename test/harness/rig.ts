import { SFNClient } from '@aws-sdk/client-sfn';
import { DISPATCHER_BUNDLE, lambdaEnvironment, loadBundle, ROUTE_DISPATCHER_BUNDLE, WORKFLOW_DISPATCHER_BUNDLE } from './bundle-loader';
import { FakeAws, FakeAwsOptions, SentMessage } from './fake-aws';
import { inProcessLedger } from './fake-dynamo';
import { QueueSimulator, QueueSimulatorOptions } from './queue-simulator';
import { DispatchConfig, JobLaunchConfig } from '../../src/contract/dispatch-config';
import { createClients } from '../../src/dispatch/runtime/clients';
import { Dispatcher, HandleOptions } from '../../src/dispatch/runtime/dispatcher';
import { FargateLauncher } from '../../src/dispatch/runtime/fargate-launcher';
import { sfnStartExecution } from '../../src/dispatch/runtime/workflow-launcher';
import type { LogFn } from '../../src/internal/runtime/log';
import type { BatchResponse, SqsEvent } from '../../src/internal/runtime/sqs';
import { config as baseConfig, DISPATCH_QUEUE, dispatcherFor, LEDGER, TestConfig } from '../dispatch/runtime/fixtures';

const fargateLedger = (c: DispatchConfig) => (c.target.kind === 'fargateJob' ? c.target.ledger : LEDGER);

export interface RigOptions {
  readonly fake?: FakeAwsOptions;
  readonly config?: TestConfig;
  readonly job?: Partial<JobLaunchConfig>;
  readonly queue?: Partial<QueueSimulatorOptions>;
  /** Dispatcher instances (Lambda execution environments) that serve invocations. @default 5 */
  readonly instances?: number;
  /** Retry mode of the ECS client. @default - the handler's (standard) */
  readonly retryMode?: 'standard' | 'adaptive';
  /** ECS request timeout. @default - the handler's (10 s) */
  readonly requestTimeoutMs?: number;
  /** Start executions of this state machine instead of launching the job. @default - launch the job */
  readonly stateMachineArn?: string;
  /**
   * Each invocation's deadline, from its start (the Lambda timeout less the
   * handler's margin): keep it under the queue's visibility timeout, as
   * SQS event sources require (6 times the function timeout).
   * @default - the handler's own (20 s)
   */
  readonly deadlineMs?: number;
  /** The job ledger: DynamoDB over HTTP on the fake (as shipped), or an in-process table (no round trips). @default 'http' */
  readonly ledger?: 'http' | 'memory';
  /**
   * Run the shipped bundle (assets/dispatch/*.lambda/index.js, one fresh
   * instance per execution environment) instead of the source modules.
   * Its logs are collected into `logs`. @default false
   */
  readonly bundle?: boolean;
}

/** What the rig invokes: a dispatcher from source, or a shipped bundle. */
export interface RigInstance {
  handle(event: SqsEvent, options?: HandleOptions): Promise<BatchResponse>;
}

/**
 * The dispatcher as Lambda runs it, against the fake endpoint: real SDK
 * clients built by the handler's own `createClients()`, one dispatcher per
 * simulated execution environment, the dispatch queue simulated with SQS
 * semantics, and what the dispatcher sends to its queues routed back (carry-
 * overs into the queue, dead letters kept with their reason).
 */
export class Rig {
  public static async start(options: RigOptions = {}): Promise<Rig> {
    return new Rig(await FakeAws.start(options.fake), options);
  }

  /**
   * A redeploy: a new rig (new execution environments, a changed config)
   * over the same fakes, queue and dead letters as `previous`.
   */
  public static async restart(previous: Rig, options: RigOptions): Promise<Rig> {
    return new Rig(previous.fake, { ...previous.options, ...options }, previous);
  }

  public readonly config: DispatchConfig;
  public readonly queue: QueueSimulator;
  public readonly deadLetters: SentMessage[] = [];
  /** Dead letters `redriveDeadLetters()` sent back. */
  private readonly redriven = new Set<SentMessage>();
  public readonly logs: Array<Record<string, unknown>> = [];
  private readonly idle: RigInstance[] = [];
  private readonly sourceInstances: Dispatcher[] = [];

  private constructor(public readonly fake: FakeAws, private readonly options: RigOptions, previous?: Rig) {
    this.config = baseConfig({
      deadLetterQueueUrl: fake.queueUrl('dispatch-dlq'),
      dispatchQueueUrl: fake.queueUrl('dispatch'),
      claimCheck: { bucket: 'claims', endpoint: `${fake.url}/claims`, prefix: 'claim-check/' },
      ...options.config,
      stateMachineArn: options.stateMachineArn,
    }, options.job);
    this.queue = previous?.queue ?? new QueueSimulator({ arn: DISPATCH_QUEUE, maxReceiveCount: this.config.maxReceiveCount, ...options.queue });
    if (previous) {
      this.deadLetters = previous.deadLetters;
      this.redriven = previous.redriven;
    }
    fake.lambdaDestination = this.config.dispatchQueueUrl;
    fake.onMessage = (m) => {
      if (m.queueUrl === this.config.dispatchQueueUrl) this.queue.send(m.body, { delaySeconds: m.delaySeconds, attributes: m.attributes });
      else if (m.queueUrl === this.config.deadLetterQueueUrl) this.deadLetters.push(m);
    };
    const log: LogFn = (level, message, fields) => this.logs.push({ level, message, ...fields });
    if (options.bundle) {
      const bundle = this.config.target.kind === 'workflow' ? WORKFLOW_DISPATCHER_BUNDLE
        : this.config.target.kind === 'route' ? ROUTE_DISPATCHER_BUNDLE : DISPATCHER_BUNDLE;
      for (let i = 0; i < (options.instances ?? 5); i++) {
        const handler = loadBundle(bundle, { ...lambdaEnvironment(fake), HC_DISPATCH_CONFIG: JSON.stringify(this.config) }, this.logs);
        this.idle.push({
          // The handler keeps 10 s from the Lambda deadline for itself.
          handle: (event, o) => {
            const deadline = o?.deadline ?? (options.deadlineMs !== undefined ? Date.now() + options.deadlineMs : undefined);
            return handler(event, deadline !== undefined ? { getRemainingTimeInMillis: () => deadline - Date.now() + 10_000 } : undefined);
          },
        });
      }
      return;
    }
    const memory = options.ledger === 'memory' ? inProcessLedger().ledger : undefined;
    for (let i = 0; i < (options.instances ?? 5); i++) {
      const endpoint = fake.url;
      const common = { region: 'eu-west-1', endpoint, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } };
      const startExecution = sfnStartExecution(new SFNClient(common));
      const dispatcher = dispatcherFor(this.config, {
        startExecution,
        ...createClients(fargateLedger(this.config), {
          dynamoEndpoint: endpoint,
          ecs: {
            ...common,
            ...(options.retryMode ? { retryMode: options.retryMode } : {}),
            ...(options.requestTimeoutMs
              ? { requestHandler: { connectionTimeout: 3_000, requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true } }
              : {}),
          },
          sqsEndpoint: endpoint,
          lambdaEndpoint: endpoint,
          eventsEndpoint: endpoint,
          log,
          metrics: false,
        }),
        ...(memory ? { ledger: memory } : {}),
      });
      this.sourceInstances.push(dispatcher);
      this.idle.push(options.deadlineMs === undefined ? dispatcher : {
        handle: (event, o) => dispatcher.handle(event, { deadline: o?.deadline ?? Date.now() + options.deadlineMs! }),
      });
    }
  }

  /** One invocation on a free execution environment. */
  public readonly handler = async (event: SqsEvent): Promise<BatchResponse> => {
    const dispatcher = this.idle.pop();
    if (!dispatcher) throw new Error('more concurrent invocations than instances');
    try {
      return await dispatcher.handle(event);
    } finally {
      this.idle.push(dispatcher);
    }
  };

  /** A dispatcher instance for direct calls (a fresh execution environment's in bundle mode). */
  public dispatcher(): RigInstance {
    return this.idle[0];
  }

  /** The Fargate launcher of a dispatcher instance (source mode), for exact RunTask inputs. */
  public launcher(): FargateLauncher {
    const launcher = this.sourceInstances[0]?.launcher;
    if (!(launcher instanceof FargateLauncher)) throw new Error('this rig starts workflows');
    return launcher;
  }

  /**
   * Moves the dead letters back to the dispatch queue, body and message
   * attributes, as an SQS message move task does (each once).
   */
  public redriveDeadLetters(): void {
    for (const m of this.deadLetters) {
      if (this.redriven.has(m)) continue;
      this.redriven.add(m);
      this.queue.send(m.body, { attributes: m.attributes });
    }
  }

  /** Dead letters not moved back (they wait in the DLQ). */
  public pendingDeadLetters(): SentMessage[] {
    return this.deadLetters.filter((m) => !this.redriven.has(m));
  }

  /** Each dead letter's reason, by the message id it came from. */
  public deadLetterReasons(): Record<string, string> {
    return Object.fromEntries(this.deadLetters.map((m) => [m.attributes['hc-message-id'], m.attributes['hc-reason']]));
  }

  public close(): Promise<void> {
    return this.fake.close();
  }
}
