import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as fc from 'fast-check';
import { Tracker } from '../../src/tracking/runtime/tracker';
import { TokenModel } from '../harness/fake-aws';
import { httpLedger } from '../harness/fake-dynamo';
import { Rig } from '../harness/rig';
import { fargateTarget, s3Record } from './runtime/fixtures';
import { trackerConfig } from '../tracking/runtime/events';

/**
 * A model-based property test of the exactly-once promise: random sequences
 * of what happens between two deliveries — new events, deliveries, duplicate
 * deliveries, Lambda timeouts mid-batch, redeploys with changed parameters,
 * capacity going away and coming back, tasks stopping (interrupted, failed,
 * succeeded; stop events delivered twice), DLQ redrives, failed-jobs
 * redrives — in both readings of what ECS does with a failed token. After
 * every sequence (and a final drain with capacity back), for every job: at
 * most one task per run, and the job ran, or sits in the dead-letter queue
 * with its reason (a job that failed after running is in the failed-jobs
 * queue). SQS's own redrive, which carries no reason, only moves records
 * whose Lambda died on their last receive, and their jobs ran.
 */
const KEYS = ['a.txt', 'b.txt', 'c.txt'];

class World {
  public rig!: Rig;
  public tracker!: Tracker;
  public revision = 3;
  /** Jobs (by S3 key) an event was sent for. */
  public readonly sent = new Set<string>();
  private readonly failedJobsMoved = new Set<string>();

  constructor(public readonly model: TokenModel) {}

  public async start(): Promise<void> {
    this.rig = await Rig.start({
      bundle: true,
      fake: { tokenModel: this.model, recordCalls: false },
      config: { tracking: true, maxReceiveCount: 3 },
      job: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], fallbackToOnDemand: true },
      // an invocation's lease (its deadline + 100 ms) ends before its message is visible again, as in SQS
      deadlineMs: 200,
      queue: { msPerSecond: 15 },
    });
    this.wireTracker();
  }

  private wireTracker(): void {
    const common = { region: 'eu-west-1', endpoint: this.rig.fake.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
    this.tracker = new Tracker(trackerConfig((name) => this.rig.fake.queueUrl(name), {
      startedBy: this.rig.config.startedBy,
      cluster: fargateTarget(this.rig.config).job.cluster,
      dispatchQueueUrl: this.rig.config.dispatchQueueUrl,
      retryAttempts: 1,
    }), {
      ecs: new ECSClient(common),
      sqs: new SQSClient(common),
      events: new EventBridgeClient(common),
      ledger: httpLedger(this.rig.fake.url),
      log: () => undefined,
      metrics: false,
    });
  }

  public async redeploy(): Promise<void> {
    this.revision++;
    this.rig = await Rig.restart(this.rig, { job: { taskDefinition: `arn:aws:ecs:eu-west-1:111122223333:task-definition/count:${this.revision}` } });
  }

  public async stopRunning(outcome: 'interrupted' | 'failed' | 'succeeded', twice: boolean): Promise<void> {
    const stop = outcome === 'interrupted' ? { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' }
      : outcome === 'failed' ? { stopCode: 'EssentialContainerExited', stoppedReason: 'exited', exitCode: 1 }
        : { stopCode: 'EssentialContainerExited', stoppedReason: 'done', exitCode: 0 };
    for (const task of this.rig.fake.tasks.filter((t) => !t.stopped)) {
      const body = JSON.stringify(this.rig.fake.stopEvent(task.taskArn, stop));
      for (let i = 0; i < (twice ? 2 : 1); i++) {
        // a tracker failure leaves the event in its queue: deliver it until it is handled
        for (let tries = 0; tries < 5; tries++) {
          const res = await this.tracker.handle({ Records: [{ messageId: `${task.taskArn}-${i}`, body, eventSourceARN: 'x' }] });
          if (res.batchItemFailures.length === 0) break;
        }
      }
    }
  }

  public redriveFailedJobs(): void {
    for (const m of this.rig.fake.messages.filter((x) => x.queueUrl === this.rig.fake.queueUrl('failed-jobs'))) {
      const id = `${m.body}`;
      if (this.failedJobsMoved.has(id)) continue;
      this.failedJobsMoved.add(id);
      this.rig.queue.send(JSON.stringify({ hc: JSON.parse(m.body).hc }));
    }
  }

  public async drain(): Promise<void> {
    this.rig.fake.faults.length = 0;
    await this.rig.queue.drain(this.rig.handler, { concurrency: 2, timeoutMs: 60_000 });
  }
}

type Cmd = fc.AsyncCommand<object, World>;
const cmd = (name: string, run: (w: World) => Promise<void> | void): Cmd => ({
  check: () => true,
  run: async (_m, w) => {
    await run(w);
  },
  toString: () => name,
});

const send = fc.constantFrom(...KEYS).map((k) => cmd(`send(${k})`, (w) => {
  w.sent.add(k);
  w.rig.queue.send(JSON.stringify({ Records: [s3Record(k)] }));
}));
const deliver = fc.constant(cmd('deliver', async (w) => {
  await w.rig.queue.step(w.rig.handler);
}));
// Sending and delivering are what mostly happens; the rest happens between them.
const commands = [
  send, send, send, deliver, deliver,
  fc.constant(cmd('deliver twice at once', async (w) => {
    await w.rig.queue.step(w.rig.handler, { duplicate: true });
  })),
  fc.constant(cmd('lambda times out after launching, before it answers', async (w) => {
    await w.rig.queue.step(async (event) => {
      await w.rig.dispatcher().handle(event);
      throw new Error('Task timed out');
    });
    w.rig.queue.expireVisibility();
  })),
  fc.constant(cmd('the answers of the next RunTask calls are lost', (w) => {
    w.rig.fake.faults.push({ kind: 'drop-after', times: 4 });
  })),
  fc.constant(cmd('redeploy with a new task definition', (w) => w.redeploy())),
  fc.constant(cmd('capacity gone', (w) => {
    w.rig.fake.faults.push({ kind: 'capacity', times: 1_000 });
  })),
  fc.constant(cmd('capacity back', (w) => {
    w.rig.fake.faults.length = 0;
  })),
  fc.constantFrom<'interrupted' | 'failed' | 'succeeded'>('interrupted', 'failed', 'succeeded').chain((o) => fc.boolean().map((twice) =>
    cmd(`tasks stop: ${o}${twice ? ', events twice' : ''}`, (w) => w.stopRunning(o, twice)))),
  fc.constant(cmd('DLQ redrive', (w) => w.rig.redriveDeadLetters())),
  fc.constant(cmd('failed-jobs redrive', (w) => w.redriveFailedJobs())),
  fc.constant(cmd('visibility timeouts pass', (w) => w.rig.queue.expireVisibility())),
];

const stats = { runs: 0, commands: 0, tasks: 0 };

describe.each<TokenModel>(['remembered', 'forgotten'])('ECS token model: failed tokens %s', (model) => {
  test('for every job, at most one task per run, and it ran or waits in a DLQ or failed-jobs queue with its reason', async () => {
    await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'large' }), async (cmds) => {
      const world = new World(model);
      await world.start();
      stats.runs++;
      stats.commands += [...cmds].length;
      try {
        await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
        await world.drain();
        await world.stopRunning('succeeded', false);
        await world.drain();
        const r = world.rig;
        stats.tasks += r.fake.tasks.length;
        const runsOf = new Map<string, number>();
        for (const t of r.fake.tasks) {
          const run = t.overrides?.containerOverrides?.[0]?.environment?.find((e: any) => e.name === 'HC_RUN')?.value;
          const k = `${t.jobId}#${run}`;
          runsOf.set(k, (runsOf.get(k) ?? 0) + 1);
        }
        expect([...runsOf.entries()].filter(([, n]) => n > 1)).toEqual([]);
        const withReason = (m: { attributes: Record<string, string> }) => !!m.attributes['hc-reason'];
        expect(r.deadLetters.every(withReason)).toBe(true);
        const taskOf = (key: string) => r.fake.tasks.find((t) => t.overrides?.containerOverrides?.[0]?.environment?.some((e: any) => e.name === 'KEY' && e.value === key));
        const deadLettered = r.deadLetters.map((m) => m.body).join('\n');
        for (const key of world.sent) {
          expect(taskOf(key) ? 'ran' : deadLettered.includes(`"key":"${key}"`) ? 'dead-lettered with its reason' : `lost: ${key}`).not.toMatch(/^lost/);
        }
        // SQS moves a record without a reason only when the Lambda died on its last receive (it
        // can write no reason then): its jobs ran, or the dispatcher had dead-lettered it with one.
        for (const m of r.queue.redriven) {
          for (const key of KEYS) {
            if (!m.body.includes(`"key":"${key}"`)) continue;
            expect(taskOf(key) || deadLettered.includes(`"key":"${key}"`) ? 'accounted' : `moved by SQS without a reason only: ${key}`).toBe('accounted');
          }
        }
      } finally {
        await world.rig.close();
      }
    }), { numRuns: Number(process.env.MODEL_RUNS ?? 25), seed: Number(process.env.MODEL_SEED ?? 2026) });
    // the property ran real sequences: it cannot pass by running nothing
    expect(stats.runs).toBeGreaterThanOrEqual(Number(process.env.MODEL_RUNS ?? 25));
    if (process.env.MODEL_STATS) console.log(JSON.stringify(stats));
  });
});
