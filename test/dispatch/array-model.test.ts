import * as fc from 'fast-check';
import { Rig } from '../harness/rig';
import { shippedTracker, ShippedTracker, Stop } from '../harness/shipped-tracker';
import { s3Record } from './runtime/fixtures';

/**
 * A model-based property test of array jobs, through the shipped dispatcher
 * and tracker bundles: random sequences of new events, deliveries (twice at
 * once), Lambda timeouts after launching, lost RunTask answers, redeploys,
 * capacity going and coming, children stopping (interrupted, failed,
 * succeeded; stop events twice), DLQ and failed-jobs redrives, under the
 * running-task cap, with either failure policy. Then everything is let run
 * to its end. For every array job: at most one task per child and run, and
 * exactly one `Array Job Completed` event whose counts add up to its size,
 * unless its record waits in the dead-letter queue with its reason.
 */
const KEYS = ['x.csv', 'y.csv'];
/** Seven children launched two per step: the cursor, its races between deliveries and continuations all run. */
const SIZE = 7;
const STEP = 2;
const EXITED = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' };
const STOPS: Record<string, Stop> = {
  succeeded: { ...EXITED, exitCode: 0 },
  failed: { ...EXITED, exitCode: 1 },
  interrupted: { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' },
};

class World {
  public rig!: Rig;
  public tracker!: ShippedTracker;
  public revision = 3;
  public readonly sent = new Set<string>();
  private readonly failedJobsMoved = new Set<string>();

  constructor(public readonly failParent: boolean) {}

  public async start(): Promise<void> {
    this.rig = await Rig.start({
      bundle: true,
      fake: { recordCalls: false },
      config: {
        tracking: true,
        maxReceiveCount: 3,
        maxConcurrentTasks: 4,
        array: { size: SIZE, failParent: this.failParent, eventBusName: 'default', launchStep: STEP },
      },
      deadlineMs: 200,
      queue: { msPerSecond: 15 },
    });
    this.tracker = shippedTracker(this.rig, { retryAttempts: 1, arrays: { failParent: this.failParent } });
  }

  public async redeploy(): Promise<void> {
    this.revision++;
    this.rig = await Rig.restart(this.rig, { job: { taskDefinition: `arn:aws:ecs:eu-west-1:111122223333:task-definition/count:${this.revision}` } });
  }

  public async stopRunning(outcome: string, twice: boolean): Promise<void> {
    for (const task of this.rig.fake.tasks.filter((t) => !t.stopped)) {
      const event = this.rig.fake.stopEvent(task.taskArn, STOPS[outcome]);
      for (let i = 0; i < (twice ? 2 : 1); i++) {
        for (let tries = 0; tries < 5; tries++) {
          const res = await this.tracker.deliver(event);
          if (res.batchItemFailures.length === 0) break;
        }
      }
    }
  }

  public redriveFailedJobs(): void {
    for (const m of this.rig.fake.messages.filter((x) => x.queueUrl === this.rig.fake.queueUrl('failed-jobs'))) {
      if (this.failedJobsMoved.has(m.body)) continue;
      this.failedJobsMoved.add(m.body);
      this.rig.queue.send(JSON.stringify({ hc: JSON.parse(m.body).hc }));
    }
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

const commands = [
  fc.constantFrom(...KEYS).map((k) => cmd(`send(${k})`, (w) => {
    w.sent.add(k);
    w.rig.queue.send(JSON.stringify({ Records: [s3Record(k)] }));
  })),
  fc.constant(cmd('deliver', async (w) => {
    await w.rig.queue.step(w.rig.handler);
  })),
  fc.constant(cmd('deliver', async (w) => {
    await w.rig.queue.step(w.rig.handler);
  })),
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
    w.rig.fake.faults.push({ kind: 'drop-after', times: 3 });
  })),
  fc.constant(cmd('redeploy with a new task definition', (w) => w.redeploy())),
  fc.constant(cmd('capacity gone', (w) => {
    w.rig.fake.faults.push({ kind: 'capacity', times: 1_000 });
  })),
  fc.constant(cmd('capacity back', (w) => {
    w.rig.fake.faults.length = 0;
  })),
  fc.constantFrom('interrupted', 'failed', 'succeeded').chain((o) => fc.boolean().map((twice) =>
    cmd(`children stop: ${o}${twice ? ', events twice' : ''}`, (w) => w.stopRunning(o, twice)))),
  fc.constant(cmd('DLQ redrive', (w) => w.rig.redriveDeadLetters())),
  fc.constant(cmd('failed-jobs redrive', (w) => w.redriveFailedJobs())),
  fc.constant(cmd('visibility timeouts pass', (w) => w.rig.queue.expireVisibility())),
];

const envOf = (t: { overrides?: any }) =>
  new Map<string, string>((t.overrides?.containerOverrides?.[0]?.environment ?? []).map((e: any) => [e.name, e.value]));

describe.each([false, true])('failParent %s', (failParent) => {
  test('every array job: at most one task per child and run, and one completion adding up to its size, or its record in the DLQ with a reason', async () => {
    let runs = 0;
    await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 25, size: 'large' }), async (cmds) => {
      const world = new World(failParent);
      await world.start();
      runs++;
      try {
        await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
        // Let everything end: capacity back, the DLQ redriven once, every child run to success (a
        // record deferred under the cap waits for running children: the queue drains as they stop).
        world.rig.fake.faults.length = 0;
        world.rig.redriveDeadLetters();
        for (let i = 0; i < 15; i++) {
          await world.rig.queue.drain(world.rig.handler, { concurrency: 2, timeoutMs: 1_500 }).catch(() => undefined);
          if (!world.rig.fake.tasks.some((t) => !t.stopped) && world.rig.queue.depth === 0) break;
          await world.stopRunning('succeeded', false);
          world.rig.queue.expireVisibility();
        }
        expect(world.rig.queue.depth).toBe(0);
        const r = world.rig;
        const runsOf = new Map<string, number>();
        for (const t of r.fake.tasks) {
          const k = `${t.jobId}#${envOf(t).get('HC_RUN')}`;
          runsOf.set(k, (runsOf.get(k) ?? 0) + 1);
        }
        expect([...runsOf.entries()].filter(([, n]) => n > 1)).toEqual([]);
        expect(r.deadLetters.every((m) => !!m.attributes['hc-reason'])).toBe(true);
        const completions = r.fake.events.filter((e) => e.DetailType === 'Array Job Completed').map((e) => e.Detail);
        const parents = new Map<string, string>();
        for (const t of r.fake.tasks) parents.set(envOf(t).get('KEY')!, envOf(t).get('HC_ARRAY_JOB_ID')!);
        for (const key of world.sent) {
          const parent = parents.get(key);
          const mine = completions.filter((c) => c.arrayJobId === parent);
          const waiting = r.pendingDeadLetters().some((m) => m.body.includes(`"key":"${key}"`));
          if (parent && mine.length > 0) {
            expect(mine).toHaveLength(1);
            expect(mine[0].succeeded + mine[0].failed + mine[0].cancelled).toBe(SIZE);
            // Each child counted once: the indices counted are distinct, one per child not cancelled in bulk.
            const item = r.fake.dynamo.items('jobs').find((i) => i.jobId?.S === parent)!;
            const done = item.childrenDone.L.map((x: any) => Number(x.N));
            expect(new Set(done).size).toBe(done.length);
            expect(done.length).toBeLessThanOrEqual(SIZE);
            // What the completion says is what the children's items say.
            const children = r.fake.dynamo.items('jobs').filter((i) => i.arrayJobId?.S === parent);
            expect(children.filter((c) => c.status.S === 'CANCELLED').length).toBeLessThanOrEqual(mine[0].cancelled);
            expect(r.fake.tasks.filter((t) => envOf(t).get('HC_ARRAY_JOB_ID') === parent && envOf(t).get('HC_RUN') === '1').length)
              .toBe(SIZE - mine[0].cancelled);
            if (!failParent) expect(mine[0].cancelled).toBe(0);
          } else {
            // No completion: the array's record waits in the DLQ with its reason (it was not moved back).
            expect(waiting ? 'dead-lettered with its reason' : `no completion: ${key}`).toBe('dead-lettered with its reason');
          }
        }
      } finally {
        await world.rig.close();
      }
    }), { numRuns: Number(process.env.MODEL_RUNS ?? 10), seed: Number(process.env.MODEL_SEED ?? 2026) });
    expect(runs).toBeGreaterThanOrEqual(Number(process.env.MODEL_RUNS ?? 10));
  }, 600_000);
});
