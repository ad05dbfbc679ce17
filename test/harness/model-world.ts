import * as fc from 'fast-check';
import { Rig } from './rig';
import type { Stop } from './shipped-tracker';
import { s3Record } from '../dispatch/runtime/fixtures';

/**
 * What the model-based property tests share (`test/dispatch/model.test.ts`,
 * `array-model.test.ts`): the world a sequence of commands acts on, and the
 * commands that happen between two deliveries.
 */

export type StopOutcome = 'interrupted' | 'failed' | 'succeeded';

const EXITED = { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' };
export const STOPS: Record<StopOutcome, Stop> = {
  succeeded: { ...EXITED, exitCode: 0 },
  failed: { ...EXITED, exitCode: 1 },
  interrupted: { stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' },
};

/** A dispatcher (`rig`) and its tracker, as the commands drive them. */
export abstract class ModelWorld {
  public rig!: Rig;
  public revision = 3;
  /** Jobs (by S3 key) an event was sent for. */
  public readonly sent = new Set<string>();
  private readonly failedJobsMoved = new Set<string>();

  /** Delivers one copy of a stop event to the tracker; resolves true when it was handled (not left for retry). */
  protected abstract deliverStop(event: unknown, taskArn: string, copy: number): Promise<boolean>;

  /** A deploy with a new task-definition revision: new execution environments over the same fakes. */
  public async redeploy(): Promise<void> {
    this.revision++;
    this.rig = await Rig.restart(this.rig, { job: { taskDefinition: `arn:aws:ecs:eu-west-1:111122223333:task-definition/count:${this.revision}` } });
  }

  /** Stops every running task as `outcome` and delivers its event (twice, if asked) until the tracker handles it. */
  public async stopRunning(outcome: StopOutcome, twice: boolean): Promise<void> {
    for (const task of this.rig.fake.tasks.filter((t) => !t.stopped)) {
      const event = this.rig.fake.stopEvent(task.taskArn, STOPS[outcome]);
      for (let i = 0; i < (twice ? 2 : 1); i++) {
        // a tracker failure leaves the event in its queue: deliver it until it is handled
        for (let tries = 0; tries < 5; tries++) {
          if (await this.deliverStop(event, task.taskArn, i)) break;
        }
      }
    }
  }

  /** Moves each failed-jobs message (once) back to the dispatch queue, as the README's redrive does. */
  public redriveFailedJobs(): void {
    for (const m of this.rig.fake.messages.filter((x) => x.queueUrl === this.rig.fake.queueUrl('failed-jobs'))) {
      if (this.failedJobsMoved.has(m.body)) continue;
      this.failedJobsMoved.add(m.body);
      this.rig.queue.send(JSON.stringify({ hc: JSON.parse(m.body).hc }));
    }
  }
}

export type ModelCommand<W> = fc.AsyncCommand<object, W>;

export function modelCommand<W>(name: string, run: (w: W) => Promise<void> | void): ModelCommand<W> {
  return {
    check: () => true,
    run: async (_m, w) => {
      await run(w);
    },
    toString: () => name,
  };
}

/** An S3 upload of one of `keys`. */
export function sendCommand<W extends ModelWorld>(keys: string[]): fc.Arbitrary<ModelCommand<W>> {
  return fc.constantFrom(...keys).map((k) => modelCommand<W>(`send(${k})`, (w) => {
    w.sent.add(k);
    w.rig.queue.send(JSON.stringify({ Records: [s3Record(k)] }));
  }));
}

/** One delivery of the dispatch queue. */
export function deliverCommand<W extends ModelWorld>(): fc.Arbitrary<ModelCommand<W>> {
  return fc.constant(modelCommand<W>('deliver', async (w) => {
    await w.rig.queue.step(w.rig.handler);
  }));
}

/**
 * What happens between deliveries: duplicate deliveries, a Lambda timing out
 * after launching, lost RunTask answers (`lostAnswers` calls), redeploys,
 * capacity going and coming, tasks stopping (`stopped` names them in the
 * command), DLQ and failed-jobs redrives, visibility timeouts passing.
 */
export function betweenDeliveries<W extends ModelWorld>(o: { lostAnswers: number; stopped: string }): Array<fc.Arbitrary<ModelCommand<W>>> {
  const c = (name: string, run: (w: W) => Promise<void> | void) => fc.constant(modelCommand<W>(name, run));
  return [
    c('deliver twice at once', async (w) => {
      await w.rig.queue.step(w.rig.handler, { duplicate: true });
    }),
    c('lambda times out after launching, before it answers', async (w) => {
      await w.rig.queue.step(async (event) => {
        await w.rig.dispatcher().handle(event);
        throw new Error('Task timed out');
      });
      w.rig.queue.expireVisibility();
    }),
    c('the answers of the next RunTask calls are lost', (w) => {
      w.rig.fake.faults.push({ kind: 'drop-after', times: o.lostAnswers });
    }),
    c('redeploy with a new task definition', (w) => w.redeploy()),
    c('capacity gone', (w) => {
      w.rig.fake.faults.push({ kind: 'capacity', times: 1_000 });
    }),
    c('capacity back', (w) => {
      w.rig.fake.faults.length = 0;
    }),
    fc.constantFrom<StopOutcome>('interrupted', 'failed', 'succeeded').chain((s) => fc.boolean().map((twice) =>
      modelCommand<W>(`${o.stopped} stop: ${s}${twice ? ', events twice' : ''}`, (w) => w.stopRunning(s, twice)))),
    c('DLQ redrive', (w) => w.rig.redriveDeadLetters()),
    c('failed-jobs redrive', (w) => w.redriveFailedJobs()),
    c('visibility timeouts pass', (w) => w.rig.queue.expireVisibility()),
  ];
}
