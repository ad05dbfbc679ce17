import { serviceEndpoint } from './json-protocol';
import { createSigner, sendSigned, SigningOptions } from './signed-request';

/**
 * Invokes a function asynchronously (`InvocationType: Event`); resolves to
 * the invocation's request id. Throws `InvokeError` with `answered: true`
 * when Lambda answered with an error (nothing was queued), or a plain error
 * when no answer came (the event may or may not be queued).
 */
export type InvokeAsync = (functionArn: string, payload: string, abortSignal?: AbortSignal) => Promise<string>;

/** Lambda answered an Invoke with an error: the event was not queued. */
export class InvokeError extends Error {
  public readonly answered = true;
  constructor(public readonly type: string, message: string, public readonly statusCode: number) {
    super(message);
    this.name = type;
  }
}

/**
 * Lambda's asynchronous `Invoke` over SigV4-signed HTTP (REST-JSON), with no
 * Lambda client in the bundle. Throttling (429) and server errors are
 * retried here, with backoff: Lambda answered them, so nothing was queued.
 */
export function lambdaInvokeAsync(options: SigningOptions, endpoint?: string, maxAttempts = 3): InvokeAsync {
  const signer = createSigner('lambda', options);
  const base = endpoint ? async () => endpoint : serviceEndpoint('lambda', 'LAMBDA', options.region);
  return async (functionArn, payload, abortSignal) => {
    const url = `${(await base()).replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(functionArn)}/invocations`;
    for (let attempt = 1; ; attempt++) {
      const response = await sendSigned(signer, options, {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
        body: payload,
      }, abortSignal);
      if (response.statusCode === 202 || response.statusCode === 200) {
        return response.headers['x-amzn-requestid'] ?? 'unknown';
      }
      let parsed: any = {};
      try {
        parsed = response.text ? JSON.parse(response.text) : {};
      } catch {
        parsed = { message: response.text.slice(0, 200) };
      }
      const type = (response.headers['x-amzn-errortype'] ?? parsed.Type ?? parsed.__type ?? `HTTP${response.statusCode}`).split(':')[0].split('#').pop()!;
      const error = new InvokeError(type, `Lambda Invoke ${functionArn}: ${type}: ${parsed.message ?? parsed.Message ?? ''}`.trim(), response.statusCode);
      const retryable = response.statusCode === 429 || response.statusCode >= 500;
      if (!retryable || attempt >= maxAttempts) throw error;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  };
}
