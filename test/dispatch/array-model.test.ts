import * as fc from 'fast-check';
import { betweenDeliveries, deliverCommand, ModelWorld, sendCommand } from '../harness/model-world';
import { Rig } from '../harness/rig';
import { shippedTracker, ShippedTracker } from '../harness/shipped-tracker';

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
class World extends ModelWorld {
  public tracker!: ShippedTracker;

  constructor(public readonly failParent: boolean) {
    super();
  }

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

  protected async deliverStop(event: unknown): Promise<boolean> {
    return (await this.tracker.deliver(event)).batchItemFailures.length === 0;
  }
}

const commands = [
  sendCommand<World>(KEYS), deliverCommand<World>(), deliverCommand<World>(),
  ...betweenDeliveries<World>({ lostAnswers: 3, stopped: 'children' }),
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
