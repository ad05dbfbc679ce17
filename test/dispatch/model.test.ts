import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as fc from 'fast-check';
import { Tracker } from '../../src/tracking/runtime/tracker';
import { TokenModel } from '../harness/fake-aws';
import { httpLedger } from '../harness/fake-dynamo';
import { betweenDeliveries, deliverCommand, ModelWorld, sendCommand } from '../harness/model-world';
import { Rig } from '../harness/rig';
import { fargateTarget } from './runtime/fixtures';
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

class World extends ModelWorld {
  public tracker!: Tracker;

  constructor(public readonly model: TokenModel) {
    super();
  }

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

  protected async deliverStop(event: unknown, taskArn: string, copy: number): Promise<boolean> {
    const res = await this.tracker.handle({ Records: [{ messageId: `${taskArn}-${copy}`, body: JSON.stringify(event), eventSourceARN: 'x' }] });
    return res.batchItemFailures.length === 0;
  }

  public async drain(): Promise<void> {
    this.rig.fake.faults.length = 0;
    await this.rig.queue.drain(this.rig.handler, { concurrency: 2, timeoutMs: 60_000 });
  }
}

// Sending and delivering are what mostly happens; the rest happens between them.
const send = sendCommand<World>(KEYS);
const deliver = deliverCommand<World>();
const commands = [send, send, send, deliver, deliver, ...betweenDeliveries<World>({ lostAnswers: 4, stopped: 'tasks' })];

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
