import { seededRandom } from './fake-aws';
import type { BatchResponse, SqsEvent, SqsRecord } from '../../src/internal/runtime/sqs';

/**
 * An SQS queue with the semantics the dispatcher relies on, driving a
 * handler through an event source mapping: batches of visible messages,
 * a visibility timeout, `ApproximateReceiveCount`, redelivery of the
 * records in `batchItemFailures` (and of the whole batch when the handler
 * throws), redrive to a dead-letter queue once a message has been received
 * `maxReceiveCount` times, delays, and occasional duplicate delivery (the
 * same message handed to two invocations at once).
 *
 * Time is real but scaled: a visibility timeout or delay of N seconds lasts
 * N x `msPerSecond` milliseconds.
 */
export interface QueueSimulatorOptions {
  readonly arn: string;
  /** @default 30 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 5 */
  readonly maxReceiveCount?: number;
  /** Real milliseconds per simulated second. @default 10 */
  readonly msPerSecond?: number;
  /** Probability that a delivered message is also delivered to another invocation. @default 0 */
  readonly duplicateRate?: number;
  /** @default 7 */
  readonly seed?: number;
}

export interface DrainOptions {
  /** Records per invocation. @default 10 */
  readonly batchSize?: number;
  /** Concurrent invocations (the mapping's maxConcurrency). @default 5 */
  readonly concurrency?: number;
  /** Gives up (and throws) after this long. @default 120 s */
  readonly timeoutMs?: number;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  /** Fixed when the message is sent, as SQS does (not at each receive). */
  readonly sentTimestamp: number;
  /** String message attributes, delivered as Lambda spells them. */
  readonly attributes: Record<string, string>;
  receiveCount: number;
  visibleAt: number;
  deleted: boolean;
}

export interface DrainResult {
  readonly invocations: number;
  readonly deliveries: number;
  readonly duplicatesDelivered: number;
  readonly handlerErrors: number;
  readonly elapsedMs: number;
}

export class QueueSimulator {
  /** Messages SQS itself redrove after `maxReceiveCount` receives (they carry no reason). */
  public readonly redriven: Array<{ messageId: string; body: string; receiveCount: number; attributes: Record<string, string> }> = [];
  /** Every message ever sent, in order. */
  public readonly sent: Array<{ messageId: string; body: string; attributes: Record<string, string> }> = [];
  private readonly messages: Message[] = [];
  private readonly random: () => number;
  private nextId = 1;

  constructor(private readonly options: QueueSimulatorOptions) {
    this.random = seededRandom(options.seed ?? 7);
  }

  private get msPerSecond(): number {
    return this.options.msPerSecond ?? 10;
  }

  /** Enqueues a message; returns its id. */
  public send(body: string, options: { delaySeconds?: number; messageId?: string; attributes?: Record<string, string> } = {}): string {
    const messageId = options.messageId ?? `msg-${this.nextId++}`;
    const attributes = options.attributes ?? {};
    this.sent.push({ messageId, body, attributes });
    const now = Date.now();
    this.messages.push({
      messageId,
      body,
      attributes,
      sentTimestamp: now,
      receiveCount: 0,
      deleted: false,
      visibleAt: now + (options.delaySeconds ?? 0) * this.msPerSecond,
    });
    return messageId;
  }

  /**
   * Receives one message by id, as a delivery would (its receive count goes
   * up, it is hidden for the visibility timeout): for invoking a handler by hand.
   */
  public peek(messageId: string): SqsRecord {
    const m = this.messages.find((x) => x.messageId === messageId && !x.deleted);
    if (!m) throw new Error(`no message ${messageId} in the queue`);
    m.receiveCount++;
    m.visibleAt = Date.now() + (this.options.visibilityTimeoutSeconds ?? 30) * this.msPerSecond;
    return this.record(m);
  }

  /**
   * One receive and one invocation (two, with `duplicate`: SQS delivering the
   * batch to two consumers at once), then deletes what was not returned as a
   * failure by an invocation that finished. Returns the records delivered.
   */
  public async step(handler: (event: SqsEvent) => Promise<BatchResponse>,
    options: { batchSize?: number; duplicate?: boolean } = {}): Promise<number> {
    const batch = this.receive(options.batchSize ?? 10);
    if (batch.records.length === 0) return 0;
    const invoke = () => handler({ Records: batch.records.map((r) => ({ ...r })) });
    const runs = await Promise.allSettled(Array.from({ length: options.duplicate ? 2 : 1 }, invoke));
    const succeeded = new Set<string>();
    for (const run of runs) {
      if (run.status !== 'fulfilled') continue;
      const failed = new Set((run.value?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const id of batch.owned.keys()) if (!failed.has(id)) succeeded.add(id);
    }
    for (const [id, m] of batch.owned) if (succeeded.has(id)) m.deleted = true;
    return batch.records.length;
  }

  /** Makes every in-flight message visible again at once (a Lambda that timed out mid-batch, seen from the queue). */
  public expireVisibility(): void {
    for (const m of this.messages) if (!m.deleted) m.visibleAt = Math.min(m.visibleAt, Date.now());
  }

  /** Messages not yet deleted or redriven. */
  public get depth(): number {
    return this.messages.filter((m) => !m.deleted).length;
  }

  /** Runs `handler` over the queue until it is empty. */
  public async drain(handler: (event: SqsEvent) => Promise<BatchResponse>, options: DrainOptions = {}): Promise<DrainResult> {
    const started = Date.now();
    const batchSize = options.batchSize ?? 10;
    const timeoutMs = options.timeoutMs ?? 120_000;
    const stats = { invocations: 0, deliveries: 0, duplicatesDelivered: 0, handlerErrors: 0 };
    const ghosts: SqsRecord[] = [];
    let inFlight = 0;

    const worker = async () => {
      while (this.depth > 0 || inFlight > 0 || ghosts.length > 0) {
        if (Date.now() - started > timeoutMs) {
          throw new Error(`queue not drained after ${timeoutMs} ms: ${this.depth} messages left`);
        }
        const batch = this.receive(batchSize);
        // A duplicate delivery: another invocation gets a message that is already in flight.
        while (batch.records.length < batchSize && ghosts.length > 0) batch.records.push(ghosts.shift()!);
        if (batch.records.length === 0) {
          await sleep(Math.max(1, this.msPerSecond / 2));
          continue;
        }
        for (const r of batch.records) {
          if (batch.owned.has(r.messageId) && this.random() < (this.options.duplicateRate ?? 0)) {
            ghosts.push(r);
            stats.duplicatesDelivered++;
          }
        }
        inFlight++;
        stats.invocations++;
        stats.deliveries += batch.records.length;
        let failed: Set<string>;
        try {
          const response = await handler({ Records: batch.records });
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch {
          stats.handlerErrors++;
          failed = new Set(batch.records.map((r) => r.messageId));
        } finally {
          inFlight--;
        }
        for (const id of batch.owned.keys()) {
          const m = batch.owned.get(id)!;
          if (!failed.has(id)) m.deleted = true; // a failed one becomes visible when its timeout ends
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 5 }, worker));
    return { ...stats, elapsedMs: Date.now() - started };
  }

  private record(m: Message): SqsRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `rh-${m.messageId}-${m.receiveCount}`,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentTimestamp) },
      messageAttributes: Object.fromEntries(Object.entries(m.attributes).map(([k, v]) => [k, { stringValue: v, dataType: 'String' }])),
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.arn,
      awsRegion: 'eu-west-1',
    };
  }

  private receive(max: number): { records: SqsRecord[]; owned: Map<string, Message> } {
    const now = Date.now();
    const owned = new Map<string, Message>();
    const records: SqsRecord[] = [];
    for (const m of this.messages) {
      if (records.length >= max) break;
      if (m.deleted || m.visibleAt > now) continue;
      if (m.receiveCount >= (this.options.maxReceiveCount ?? 5)) {
        // The redrive policy moves it before another receive.
        m.deleted = true;
        this.redriven.push({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, attributes: m.attributes });
        continue;
      }
      m.receiveCount++;
      m.visibleAt = now + (this.options.visibilityTimeoutSeconds ?? 30) * this.msPerSecond;
      owned.set(m.messageId, m);
      records.push(this.record(m));
    }
    // Deleted messages are dropped so long runs stay small.
    if (this.messages.length > 1000 && this.messages.filter((m) => m.deleted).length > this.messages.length / 2) {
      const live = this.messages.filter((m) => !m.deleted);
      this.messages.length = 0;
      this.messages.push(...live);
    }
    return { records, owned };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
