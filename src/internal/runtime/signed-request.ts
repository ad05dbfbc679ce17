import { createHash, createHmac } from 'crypto';
import type { Readable } from 'stream';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types';

/** The part of the SDK's HTTP handler (`NodeHttpHandler`) this module uses. */
export interface RequestHandler {
  handle(request: HttpRequest, options?: { abortSignal?: any }): Promise<{
    response: { statusCode: number; headers?: Record<string, string>; body?: unknown };
  }>;
}


/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape SignatureV4 expects. */
class Sha256 implements Checksum {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Where and as whom a handler sends signed requests. */
export interface SigningOptions {
  readonly region: string | (() => Promise<string>);
  readonly credentials: () => Promise<AwsCredentialIdentity>;
  readonly handler: RequestHandler;
  /** Per-request timeout. @default 10 seconds */
  readonly timeoutMs?: number;
}

/** A signed request's answer. */
export interface SignedResponse {
  readonly statusCode: number;
  /** Response headers, names in lower case. */
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** A SigV4 signer of `service` requests with the SDK's signer and Node's SHA-256. */
export function createSigner(service: string, options: SigningOptions, s3 = false): SignatureV4 {
  return new SignatureV4({
    service,
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    // S3 signs the path as sent; other services double-encode it.
    uriEscapePath: !s3,
    applyChecksum: s3,
  });
}

/**
 * Signs and sends one request through the SDK's own HTTP handler (the
 * handlers bundle no extra client for S3 PutObject and DynamoDB: each would
 * add ~100 KB and start-up time to bundles whose size and init are
 * budgeted, see `npm run bench`).
 */
export async function sendSigned(
  signer: SignatureV4, options: SigningOptions,
  request: { method: string; url: string; headers: Record<string, string>; body: string },
  abortSignal?: AbortSignal,
): Promise<SignedResponse> {
  const target = new URL(request.url);
  const payload = Buffer.from(request.body, 'utf8');
  const http = new HttpRequest({
    method: request.method,
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    headers: { 'host': target.host, 'content-length': String(payload.length), ...request.headers },
    body: payload,
  });
  const signed = await signer.sign(http);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const { response } = await options.handler.handle(signed as HttpRequest, {
    abortSignal: abortSignal ? anySignal([timeout, abortSignal]) : timeout,
  });
  const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { statusCode: response.statusCode, headers, text: await readBody(response.body) };
}

/** Aborts when any of `signals` does (AbortSignal.any is Node 20.3+). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * A signed S3 `PutObject` over the SDK's own HTTP handler. The dispatcher
 * writes one small JSON document per oversized job.
 */
export type PutObject = (url: string, body: string) => Promise<void>;

/** Returns a `PutObject` that signs with SigV4 and sends through `handler`. */
export function s3PutObject(options: SigningOptions): PutObject {
  const signer = createSigner('s3', options, true);
  return async (url, body) => {
    const response = await sendSigned(signer, options, { method: 'PUT', url, headers: { 'content-type': 'application/json' }, body });
    if (response.statusCode < 200 || response.statusCode > 299) {
      const code = /<Code>([^<]*)<\/Code>/.exec(response.text)?.[1] ?? 'unknown error';
      const message = /<Message>([^<]*)<\/Message>/.exec(response.text)?.[1];
      throw new Error(`S3 PutObject ${new URL(url).pathname} failed: HTTP ${response.statusCode} ${code}${message ? `: ${message}` : ''}`);
    }
  };
}

async function readBody(body: unknown): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as Readable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
