import { createHash } from 'crypto';
import * as http from 'http';
import { AddressInfo, Socket } from 'net';
import { DynamoApiError, FakeDynamo } from './fake-dynamo';

/**
 * A loopback server that speaks the ECS and SQS JSON protocols (and S3
 * `PutObject`), so the dispatcher's real SDK clients, serializers and retry
 * strategies run against it. ECS behaves as documented for RunTask:
 * overrides ≤ 8,192 characters, count ≤ 10, clientToken ≤ 64 ASCII
 * characters (33-126) deduplicated per cluster (the same token and
 * parameters return the original result, failures included; other
 * parameters raise ConflictException), startedBy ≤ 128 characters,
 * launchType and capacityProviderStrategy mutually exclusive. Faults are
 * injected on demand: throttling from a token bucket, HTTP 500s, dropped
 * connections (before or after the launch), slow responses, capacity
 * failures and partial placement.
 */

export const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';
export const CAPACITY_REASON = 'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/** A fault the fake applies to a matching RunTask call. */
export type FaultKind =
  | 'http500' // InternalServer-style 500, nothing launched
  | 'drop-before' // connection destroyed before anything happens
  | 'drop-after' // the launch happens, then the connection is destroyed
  | 'slow' // the response is delayed by `delayMs`
  | 'capacity' // HTTP 200 with failures[] and no task (recorded under the token)
  | 'partial' // of `count` tasks, half start and the rest fail for capacity
  | 'throttle'; // ThrottlingException, whatever the token bucket says

export interface Fault {
  readonly kind: FaultKind;
  /** Which calls it applies to; all RunTask calls when absent. */
  readonly match?: (input: any) => boolean;
  /** How many calls it applies to before it is used up. @default 1 */
  times?: number;
  readonly delayMs?: number;
}

export interface RandomFaults {
  readonly http500?: number;
  readonly dropBefore?: number;
  readonly dropAfter?: number;
  /** Capacity failures, applied to Spot launches only (on-demand always has room). */
  readonly spotCapacity?: number;
  readonly throttle?: number;
}

/**
 * What ECS does with a client token whose request started no task (HTTP 200
 * with only `failures[]`): undocumented. `remembered`: a retry with the same
 * token and parameters gets the same failures back; `forgotten`: the token
 * is free again and a retry may launch.
 */
export type TokenModel = 'remembered' | 'forgotten';

export interface FakeAwsOptions {
  /** Added to every RunTask response. @default 0 */
  readonly runTaskLatencyMs?: number;
  /** Added to every DynamoDB response. @default 0 */
  readonly dynamoLatencyMs?: number;
  /** How ECS treats a token whose request started no task. @default 'remembered' */
  readonly tokenModel?: TokenModel;
  /** Token bucket for RunTask: sustained calls per second and burst. @default - no throttling */
  readonly throttle?: { readonly rate: number; readonly burst: number };
  /** Probabilities of random faults per RunTask call. @default - none */
  readonly random?: RandomFaults;
  /** Seed of the fake's random faults. @default 1 */
  readonly seed?: number;
  /** Keep every call's body (memory grows with calls). @default true */
  readonly recordCalls?: boolean;
  /**
   * Which spelling of a timeout the fake Lambda's invocation records use:
   * the `Sandbox.Timedout` error type, or only the classic message
   * ("Task timed out after 3.00 seconds") with no type. @default 'errorType'
   */
  readonly lambdaTimeoutSpelling?: 'errorType' | 'message';
}

export interface FakeTask {
  readonly taskArn: string;
  readonly cluster: string;
  readonly jobId?: string;
  readonly attempt?: number;
  readonly startedBy?: string;
  readonly capacity: string;
  readonly clientToken?: string;
  readonly overrides?: any;
  /** Epoch ms of its creation; tests may move it back to age a task. */
  createdAt: number;
  /** Epoch ms of its start (RUNNING; the launch itself unless it was stuck); tests may move it back to age a task. */
  startedAt: number;
  stopped: boolean;
  /** False while it is stuck before RUNNING (PROVISIONING): see `FakeAws.stuckStarts`. */
  running: boolean;
}

/**
 * How a fake Lambda worker's run ends: `success`, `timeout` (Sandbox.Timedout),
 * `oom` (Runtime.OutOfMemory), `error` (an unhandled error), `spill` (the
 * worker throws SpilloverRequested), `event-age` (never ran: too old).
 */
export type LambdaRunEnd = 'success' | 'timeout' | 'oom' | 'error' | 'spill' | 'event-age';

/** One asynchronous invocation the fake Lambda accepted. */
export interface FakeInvocation {
  readonly functionArn: string;
  readonly requestId: string;
  readonly payload: any;
  /** How the run ended (set when it ran). */
  end?: LambdaRunEnd;
}

export interface SentMessage {
  readonly queueUrl: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly delaySeconds: number;
}

/** A seeded PRNG (Park-Miller): fault runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

class ApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export class FakeAws {
  /** Starts the server on 127.0.0.1 and a free port. */
  public static async start(options: FakeAwsOptions = {}): Promise<FakeAws> {
    const fake = new FakeAws(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', () => resolve()));
    return fake;
  }

  public readonly calls: Array<{ target: string; body: any }> = [];
  /** Method, path and headers of every request (when calls are recorded). */
  public readonly requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders }> = [];
  public readonly tasks: FakeTask[] = [];
  public readonly messages: SentMessage[] = [];
  public readonly objects = new Map<string, string>();
  /** Entries of every EventBridge PutEvents call. */
  public readonly events: Array<{ Source: string; DetailType: string; Detail: any; EventBusName?: string }> = [];
  /** Step Functions executions started, by name. */
  public readonly executions = new Map<string, { stateMachineArn: string; input: string; executionArn: string }>();
  /** StartExecution calls that found an execution of that name. */
  public startExecutionRepeats = 0;
  /** StopTask calls: task ARN and reason. */
  public readonly stopped: Array<{ task: string; reason?: string }> = [];
  public readonly faults: Fault[] = [];
  /** The DynamoDB tables (the job ledger). */
  public readonly dynamo = new FakeDynamo();
  /** Counters: RunTask calls by outcome. */
  public readonly stats = { runTask: 0, launched: 0, replayed: 0, throttled: 0, failedCapacity: 0, http500: 0, dropped: 0, conflicts: 0, invalid: 0 };
  /** Receives every SendMessage (after it is recorded); the queue simulator hooks in here. */
  public onMessage?: (message: SentMessage) => void;
  /** PutEvents calls to answer with a failed entry (then they succeed again). */
  public failPutEvents = 0;
  /** Fails the next `times` PutEvents calls carrying an event of this detail type. */
  public failEventsOf?: { detailType: string; times: number };
  /** Fails the next this many ListTasks calls with a ThrottlingException. */
  public failListTasks = 0;
  /** The last event `stopEvent()` made. */
  public lastStopEvent?: any;
  /** Returns an error code to fail a PutObject with (for example 'InternalError'). */
  public onPutObject?: (path: string) => string | undefined;
  /** Every asynchronous Lambda invocation, in order. */
  public readonly invocations: FakeInvocation[] = [];
  /** How a worker run ends; runs happen right after Invoke answers. @default - every run succeeds */
  public lambdaRun?: (invocation: FakeInvocation) => LambdaRunEnd;
  /** Queue URL of the functions' on-success and on-failure destinations; no destination: records are dropped. */
  public lambdaDestination?: string;
  /** Invoke calls to answer with 429 TooManyRequestsException before accepting again. */
  public throttleInvokes = 0;
  /** The next this many tasks launched stay in PROVISIONING (no capacity behind them, an image that never pulls). */
  public stuckStarts = 0;

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly tokens = new Map<string, { params: string; response: any }>();
  private readonly bucket?: TokenBucket;
  private readonly random: () => number;
  private nextTask = 1;

  private constructor(private readonly options: FakeAwsOptions) {
    this.bucket = options.throttle ? new TokenBucket(options.throttle.rate, options.throttle.burst) : undefined;
    this.random = seededRandom(options.seed ?? 1);
    this.server = http.createServer((req, res) => this.serve(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A queue URL on this server (the SQS client sends to the queue URL's host). */
  public queueUrl(name: string): string {
    return `${this.url}/111122223333/${name}`;
  }

  public async close(): Promise<void> {
    if (!this.server.listening) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Tasks launched per job id (a job launched twice has 2). */
  public launchesByJob(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of this.tasks) {
      if (t.jobId) counts.set(t.jobId, (counts.get(t.jobId) ?? 0) + 1);
    }
    return counts;
  }

  /** RunTask request bodies, in order. */
  public runTaskCalls(): any[] {
    return this.calls.filter((c) => c.target === `${ECS_TARGET}.RunTask`).map((c) => c.body);
  }

  /**
   * Stops a task and returns the `ECS Task State Change` event ECS would
   * publish for it: its own overrides, startedBy, cluster and capacity, the
   * given stop code and reason, the job container's exit code.
   */
  public stopEvent(taskArn: string, stop: { stopCode: string; stoppedReason: string; exitCode?: number; containerName?: string }): any {
    const task = this.tasks.find((t) => t.taskArn === taskArn);
    if (!task) throw new Error(`no task ${taskArn}`);
    task.stopped = true;
    const name = stop.containerName ?? 'job';
    return this.lastStopEvent = {
      'version': '0',
      'id': `evt-${taskArn.split('/').pop()}`,
      'detail-type': 'ECS Task State Change',
      'source': 'aws.ecs',
      'account': '111122223333',
      'time': new Date().toISOString(),
      'region': 'eu-west-1',
      'resources': [taskArn],
      'detail': {
        clusterArn: task.cluster,
        capacityProviderName: task.capacity,
        containers: [{ name, lastStatus: 'STOPPED', taskArn, ...(stop.exitCode !== undefined ? { exitCode: stop.exitCode } : {}) }],
        desiredStatus: 'STOPPED',
        group: 'family:count',
        lastStatus: 'STOPPED',
        overrides: task.overrides ?? { containerOverrides: [] },
        createdAt: new Date(task.createdAt).toISOString(),
        ...(task.running ? { startedAt: new Date(task.startedAt).toISOString() } : {}),
        startedBy: task.startedBy,
        stopCode: stop.stopCode,
        stoppedAt: new Date().toISOString(),
        stoppedReason: stop.stoppedReason,
        taskArn,
      },
    };
  }

  /** Whether a PutEvents call carries an event of the detail type `failEventsOf` fails. */
  private failsEventsOf(body: any): boolean {
    const f = this.failEventsOf;
    return !!f && f.times > 0 && (body.Entries ?? []).some((e: any) => e.DetailType === f.detailType);
  }

  /** A task stuck before RUNNING starts now (its creation time stays). */
  public startTask(taskArn: string): void {
    const task = this.tasks.find((t) => t.taskArn === taskArn);
    if (!task) throw new Error(`no task ${taskArn}`);
    task.running = true;
    task.startedAt = Date.now();
  }

  /** Marks a task stopped (it no longer counts as running). */
  public stopTask(taskArn: string): void {
    const task = this.tasks.find((t) => t.taskArn === taskArn);
    if (!task) throw new Error(`no task ${taskArn}`);
    task.stopped = true;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (this.options.recordCalls !== false) this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      if (req.method === 'PUT') {
        this.putObject(req.url ?? '/', raw, res);
        return;
      }
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      if (invoke) {
        this.invoke(decodeURIComponent(invoke[1]), raw, req, res);
        return;
      }
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        this.error(res, new ApiError(400, 'SerializationException', 'body is not JSON'), '1.1');
        return;
      }
      if (this.options.recordCalls !== false) this.calls.push({ target, body });
      if (target.startsWith(`${ECS_TARGET}.`)) {
        void this.ecs(target.slice(ECS_TARGET.length + 1), body, req, res);
      } else if (target.startsWith('DynamoDB_20120810.')) {
        void this.dynamoCall(target.slice('DynamoDB_20120810.'.length), body, res);
      } else if (target === 'AmazonSQS.SendMessage') {
        this.sendMessage(body, res);
      } else if (target === 'AWSStepFunctions.StartExecution') {
        this.startExecution(body, res);
      } else if (target === 'AWSEvents.PutEvents' && (this.failPutEvents > 0 || this.failsEventsOf(body))) {
        if (this.failPutEvents > 0) this.failPutEvents--;
        else this.failEventsOf!.times--;
        this.json(res, { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'injected' }] }, '1.1');
      } else if (target === 'AWSEvents.PutEvents') {
        for (const e of body.Entries ?? []) this.events.push({ ...e, Detail: JSON.parse(e.Detail) });
        this.json(res, { FailedEntryCount: 0, Entries: (body.Entries ?? []).map((_: unknown, i: number) => ({ EventId: `event-${this.events.length}-${i}` })) }, '1.1');
      } else {
        this.error(res, new ApiError(400, 'UnknownOperationException', `unknown operation '${target}'`), '1.1');
      }
    });
  }

  private async ecs(operation: string, body: any, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (operation === 'RunTask') {
        await this.runTask(body, req, res);
      } else if (operation === 'ListTasks') {
        if (this.failListTasks > 0) {
          this.failListTasks--;
          throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
        }
        this.json(res, this.listTasks(body), '1.1');
      } else if (operation === 'DescribeTasks') {
        const tasks = this.tasks.filter((t) => (body.tasks ?? []).includes(t.taskArn));
        this.json(res, {
          tasks: tasks.map((t) => ({
            taskArn: t.taskArn,
            clusterArn: t.cluster,
            lastStatus: t.stopped ? 'STOPPED' : t.running ? 'RUNNING' : 'PROVISIONING',
            startedBy: t.startedBy,
            createdAt: t.createdAt / 1000,
            ...(t.running ? { startedAt: t.startedAt / 1000 } : {}),
          })),
          failures: [],
        }, '1.1');
      } else if (operation === 'StopTask') {
        const task = this.tasks.find((t) => t.taskArn === body.task);
        if (!task) throw new ApiError(400, 'InvalidParameterException', `The referenced task was not found: ${body.task}`);
        this.stopped.push({ task: body.task, reason: body.reason });
        task.stopped = true;
        this.json(res, { task: { taskArn: task.taskArn, lastStatus: 'STOPPED', stoppedReason: body.reason } }, '1.1');
      } else {
        throw new ApiError(400, 'UnknownOperationException', `ECS operation '${operation}' is not faked`);
      }
    } catch (e) {
      if (e instanceof ApiError) this.error(res, e, '1.1');
      else throw e;
    }
  }

  private async dynamoCall(operation: string, body: any, res: http.ServerResponse): Promise<void> {
    if (this.options.dynamoLatencyMs) await sleep(this.options.dynamoLatencyMs);
    try {
      this.json(res, this.dynamo.handle(operation, body), '1.0');
    } catch (e) {
      if (!(e instanceof DynamoApiError)) throw e;
      const status = ['ThrottlingException', 'ProvisionedThroughputExceededException', 'ConditionalCheckFailedException', 'ValidationException'].includes(e.type) ? 400 : 500;
      res.statusCode = status;
      this.json(res, { __type: `com.amazonaws.dynamodb.v20120810#${e.type}`, message: e.message, ...(e.item ? { Item: e.item } : {}) }, '1.0');
    }
  }

  private async runTask(input: any, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.runTask++;
    const fault = this.pickFault(input);
    if (this.options.runTaskLatencyMs) await sleep(this.options.runTaskLatencyMs);
    if (fault?.kind === 'slow') await sleep(fault.delayMs ?? 1000);
    if (fault?.kind === 'drop-before') {
      this.stats.dropped++;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'throttle' || (this.bucket && !this.bucket.take())) {
      this.stats.throttled++;
      throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
    }
    if (fault?.kind === 'http500') {
      this.stats.http500++;
      throw new ApiError(500, 'ServerException', 'Service Unavailable. Please try again later.');
    }
    this.validateRunTask(input);
    const key = `${input.cluster ?? 'default'}|${input.clientToken}`;
    const params = paramsOf(input);
    const previous = input.clientToken ? this.tokens.get(key) : undefined;
    let response: any;
    if (previous) {
      if (previous.params !== params) {
        this.stats.conflicts++;
        // resourceIds: "the existing task ARNs which are already associated with the clientToken".
        const resourceIds = (previous.response.tasks ?? []).map((t: any) => t.taskArn);
        throw new ApiError(400, 'ConflictException', 'The request uses the same client token as a previous, but non-identical request.',
          resourceIds.length ? { resourceIds } : {});
      }
      this.stats.replayed++;
      response = previous.response;
    } else {
      response = this.place(input, fault);
      const startedNothing = (response.tasks ?? []).length === 0;
      if (input.clientToken && !(startedNothing && this.options.tokenModel === 'forgotten')) this.tokens.set(key, { params, response });
    }
    if (fault?.kind === 'drop-after') {
      this.stats.dropped++;
      req.socket.destroy();
      return;
    }
    this.json(res, response, '1.1');
  }

  private validateRunTask(input: any): void {
    const invalid = (message: string) => {
      this.stats.invalid++;
      return new ApiError(400, 'InvalidParameterException', message);
    };
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10) throw invalid('count must be between 1 and 10');
    if (input.clientToken !== undefined && !/^[\x21-\x7e]{1,64}$/.test(input.clientToken)) {
      throw invalid('clientToken must be 1-64 ASCII characters (33-126)');
    }
    if (input.startedBy !== undefined && String(input.startedBy).length > 128) throw invalid('startedBy is limited to 128 characters');
    if (input.overrides !== undefined && JSON.stringify(input.overrides).length > 8192) {
      throw invalid('Container Overrides length must be at most 8192');
    }
    if (input.launchType && input.capacityProviderStrategy) {
      throw invalid('Specifying both a launch type and capacity provider strategy is not supported.');
    }
    if (!input.taskDefinition) throw invalid('taskDefinition is required');
  }

  private place(input: any, fault: Fault | undefined): any {
    const count = input.count ?? 1;
    const spot = (input.capacityProviderStrategy ?? []).some((s: any) => s.capacityProvider === 'FARGATE_SPOT');
    const capacity = spot ? 'FARGATE_SPOT' : 'FARGATE';
    const noCapacity = fault?.kind === 'capacity'
      || (spot && this.options.random?.spotCapacity !== undefined && this.random() < this.options.random.spotCapacity);
    const placed = noCapacity ? 0 : fault?.kind === 'partial' ? Math.ceil(count / 2) : count;
    const tags = new Map<string, string>((input.tags ?? []).map((t: any) => [t.key, t.value]));
    const cluster = String(input.cluster ?? 'default');
    const clusterName = cluster.split('/').pop();
    const tasks = Array.from({ length: placed }, () => {
      const task: FakeTask = {
        taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/${clusterName}/${(this.nextTask++).toString(16).padStart(32, '0')}`,
        cluster,
        jobId: tags.get('hc:job-id'),
        attempt: tags.has('hc:attempt') ? Number(tags.get('hc:attempt')) : undefined,
        startedBy: input.startedBy,
        capacity,
        clientToken: input.clientToken,
        overrides: input.overrides,
        createdAt: Date.now(),
        startedAt: Date.now(),
        stopped: false,
        running: this.stuckStarts > 0 ? (this.stuckStarts--, false) : true,
      };
      this.tasks.push(task);
      this.stats.launched++;
      return { taskArn: task.taskArn, clusterArn: cluster, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', capacityProviderName: capacity, startedBy: input.startedBy };
    });
    if (placed < count) this.stats.failedCapacity++;
    const failures = Array.from({ length: count - placed }, () => ({ arn: cluster, reason: CAPACITY_REASON }));
    return { tasks, failures };
  }

  private pickFault(input: any): Fault | undefined {
    const scripted = this.faults.find((f) => (f.times ?? 1) > 0 && (!f.match || f.match(input)));
    if (scripted) {
      scripted.times = (scripted.times ?? 1) - 1;
      return scripted;
    }
    const r = this.options.random;
    if (!r) return undefined;
    const roll = this.random();
    let edge = 0;
    for (const [kind, p] of [['http500', r.http500], ['drop-before', r.dropBefore], ['drop-after', r.dropAfter], ['throttle', r.throttle]] as const) {
      edge += p ?? 0;
      if (roll < edge) return { kind };
    }
    return undefined;
  }

  private listTasks(input: any): any {
    const matching = this.tasks.filter((t) => !t.stopped
      && (!input.cluster || t.cluster === input.cluster)
      && (!input.startedBy || t.startedBy === input.startedBy));
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = Math.min(input.maxResults ?? 100, 100);
    const page = matching.slice(start, start + size);
    return {
      taskArns: page.map((t) => t.taskArn),
      ...(start + size < matching.length ? { nextToken: String(start + size) } : {}),
    };
  }

  private sendMessage(input: any, res: http.ServerResponse): void {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries<any>(input.MessageAttributes ?? {})) attributes[k] = v.StringValue;
    const message: SentMessage = { queueUrl: input.QueueUrl, body: input.MessageBody, attributes, delaySeconds: input.DelaySeconds ?? 0 };
    this.messages.push(message);
    this.onMessage?.(message);
    this.json(res, {
      MessageId: `sent-${this.messages.length}`,
      MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex'),
      ...(input.MessageAttributes ? { MD5OfMessageAttributes: sqsAttributesMd5(input.MessageAttributes) } : {}),
    }, '1.0');
  }

  /** Lambda's asynchronous Invoke: 202 and a request id; the run ends as `lambdaRun` says and its record goes to the destination. */
  private invoke(functionArn: string, raw: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.headers['x-amz-invocation-type'] !== 'Event') {
      this.restError(res, 400, 'InvalidParameterValueException', 'the fake Lambda only takes asynchronous (Event) invocations');
      return;
    }
    if (this.throttleInvokes > 0) {
      this.throttleInvokes--;
      this.restError(res, 429, 'TooManyRequestsException', 'Rate Exceeded.');
      return;
    }
    let payload: any;
    try {
      payload = JSON.parse(raw);
    } catch {
      this.restError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      return;
    }
    if (Buffer.byteLength(raw) > 1024 * 1024) {
      this.restError(res, 413, 'RequestTooLargeException', 'Request must be smaller than 1048576 bytes for the InvokeFunction operation');
      return;
    }
    const invocation: FakeInvocation = { functionArn, requestId: `req-${this.invocations.length + 1}`, payload };
    this.invocations.push(invocation);
    res.writeHead(202, { 'x-amzn-requestid': invocation.requestId, 'content-length': '0' }).end();
    setImmediate(() => this.runLambda(invocation));
  }

  private runLambda(invocation: FakeInvocation): void {
    const end = this.lambdaRun?.(invocation) ?? 'success';
    invocation.end = end;
    if (!this.lambdaDestination) return;
    const errors: Record<Exclude<LambdaRunEnd, 'success' | 'event-age'>, { errorType?: string; errorMessage: string }> = {
      timeout: this.options.lambdaTimeoutSpelling === 'message'
        ? { errorMessage: '2026-11-27T12:00:00.000Z req Task timed out after 3.00 seconds' }
        : { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: req Error: Task timed out after 3.00 seconds' },
      oom: { errorType: 'Runtime.OutOfMemory', errorMessage: 'RequestId: req Error: Runtime exited with error: signal: killed' },
      error: { errorType: 'Error', errorMessage: 'boom' },
      spill: { errorType: 'SpilloverRequested', errorMessage: 'input too large for Lambda' },
    };
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: invocation.requestId,
        functionArn: `${invocation.functionArn}:$LATEST`,
        condition: end === 'success' ? 'Success' : end === 'event-age' ? 'EventAgeExceeded' : 'RetriesExhausted',
        approximateInvokeCount: end === 'event-age' ? 0 : 1,
      },
      requestPayload: invocation.payload,
      ...(end === 'event-age' ? {} : {
        responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(end === 'success' ? {} : { functionError: 'Unhandled' }) },
        responsePayload: end === 'success' ? { ok: true } : errors[end],
      }),
    };
    const message: SentMessage = { queueUrl: this.lambdaDestination, body: JSON.stringify(record), attributes: {}, delaySeconds: 0 };
    this.messages.push(message);
    this.onMessage?.(message);
  }

  private restError(res: http.ServerResponse, status: number, type: string, message: string): void {
    const body = JSON.stringify({ Type: 'User', message });
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'content-length': String(Buffer.byteLength(body)) }).end(body);
  }

  /** Names are unique per state machine: the same name and input while running returns the original; anything else is ExecutionAlreadyExists. */
  private startExecution(input: any, res: http.ServerResponse): void {
    const key = `${input.stateMachineArn}|${input.name}`;
    const existing = this.executions.get(key);
    if (existing) {
      this.startExecutionRepeats++;
      if (existing.input !== input.input) {
        this.error(res, new ApiError(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`), '1.0');
        return;
      }
      this.json(res, { executionArn: existing.executionArn, startDate: 1795773600 }, '1.0');
      return;
    }
    const executionArn = `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${input.name}`;
    this.executions.set(key, { stateMachineArn: input.stateMachineArn, input: input.input, executionArn });
    this.json(res, { executionArn, startDate: 1795773600 }, '1.0');
  }

  private putObject(path: string, body: string, res: http.ServerResponse): void {
    const code = this.onPutObject?.(path);
    if (code) {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/xml');
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`);
      return;
    }
    this.objects.set(decodeURIComponent(path), body);
    res.statusCode = 200;
    res.setHeader('etag', `"${createHash('md5').update(body).digest('hex')}"`);
    res.end();
  }

  private json(res: http.ServerResponse, body: unknown, version: '1.0' | '1.1'): void {
    res.setHeader('content-type', `application/x-amz-json-${version}`);
    res.end(JSON.stringify(body));
  }

  private error(res: http.ServerResponse, e: ApiError, version: '1.0' | '1.1'): void {
    res.statusCode = e.status;
    res.setHeader('x-amzn-errortype', e.type);
    this.json(res, { __type: e.type, message: e.message, ...e.extra }, version);
  }
}

/** What ECS compares for a repeated token: every parameter but the token. */
function paramsOf(input: any): string {
  const { clientToken: _token, ...rest } = input;
  return stableJson(rest);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The MD5 of message attributes the SQS client verifies (binary encoding of name, type, value). */
function sqsAttributesMd5(attributes: Record<string, { DataType: string; StringValue?: string }>): string {
  const hash = createHash('md5');
  const field = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    hash.update(len);
    hash.update(b);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name];
    field(name);
    field(a.DataType);
    hash.update(Buffer.from([1]));
    field(a.StringValue ?? '');
  }
  return hash.digest('hex');
}
