import { createHash, createHmac } from 'crypto';
import type { Readable } from 'stream';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, SourceData } from '@smithy/types';

/** The part of the SDK's HTTP handler (`NodeHttpHandler`) this module uses. */
export interface RequestHandler {
  handle(request: HttpRequest, options?: { abortSignal?: any }): Promise<{ response: { statusCode: number; body?: unknown } }>;
}

/**
 * A signed S3 `PutObject` over the SDK's own HTTP handler. The dispatcher
 * writes one small JSON document per oversized job; bundling
 * `@aws-sdk/client-s3` for that would add ~130 KB to a bundle whose size and
 * start-up time are budgeted (see `npm run bench`).
 */
export type PutObject = (url: string, body: string) => Promise<void>;

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

export interface S3PutOptions {
  readonly region: string | (() => Promise<string>);
  readonly credentials: () => Promise<AwsCredentialIdentity>;
  readonly handler: RequestHandler;
  /** Per-request timeout. @default 10 seconds */
  readonly timeoutMs?: number;
}

/** Returns a `PutObject` that signs with SigV4 and sends through `handler`. */
export function s3PutObject(options: S3PutOptions): PutObject {
  const signer = new SignatureV4({
    service: 's3',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  return async (url, body) => {
    const target = new URL(url);
    const payload = Buffer.from(body, 'utf8');
    const request = new HttpRequest({
      method: 'PUT',
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port ? Number(target.port) : undefined,
      path: target.pathname,
      headers: {
        'host': target.host,
        'content-type': 'application/json',
        'content-length': String(payload.length),
      },
      body: payload,
    });
    const signed = await signer.sign(request);
    const { response } = await options.handler.handle(signed as HttpRequest, {
      abortSignal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await readBody(response.body);
    if (response.statusCode < 200 || response.statusCode > 299) {
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? 'unknown error';
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
      throw new Error(`S3 PutObject ${target.pathname} failed: HTTP ${response.statusCode} ${code}${message ? `: ${message}` : ''}`);
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
