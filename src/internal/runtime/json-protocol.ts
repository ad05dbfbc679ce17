import { createSigner, sendSigned, SigningOptions } from './signed-request';

/** Sends one operation of an AWS JSON 1.0 protocol service and returns its parsed answer; throws `AwsJsonError`. */
export type AwsJsonTransport = (operation: string, body: Record<string, unknown>, abortSignal?: AbortSignal) => Promise<any>;

/** A service error with its type (`ConditionalCheckFailedException`, `ThrottlingException`, `QueueDoesNotExist`, ...). */
export class AwsJsonError extends Error {
  /** `item`: the item as it was, when a DynamoDB condition failed and ReturnValuesOnConditionCheckFailure was ALL_OLD. */
  constructor(public readonly type: string, message: string, public readonly retryable: boolean, public readonly item?: Record<string, any>) {
    super(message);
    this.name = type;
  }
}

const RETRYABLE = new Set([
  'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'InternalServerError',
  'ServiceUnavailable', 'TransactionInProgressException', 'LimitExceededException', 'RequestThrottled', 'KmsThrottled',
]);

export interface AwsJsonTransportOptions extends SigningOptions {
  /** Base URL: `AWS_ENDPOINT_URL_<SERVICE>`, or `https://<service>.<region>.amazonaws.com`. */
  readonly endpoint: () => Promise<string>;
  /** Attempts per operation (throttling, 5xx, dropped connections). @default 4 */
  readonly maxAttempts?: number;
  /** The protocol version: `1.0` (DynamoDB, SQS) or `1.1` (EventBridge). @default '1.0' */
  readonly jsonVersion?: '1.0' | '1.1';
}

/**
 * A JSON 1.0 protocol service (DynamoDB, SQS) over SigV4-signed HTTP, with
 * the SDK's retry rules in small: throttling, 5xx and network errors are
 * retried with jittered exponential backoff; client errors are not.
 */
export function awsJsonTransport(service: string, targetPrefix: string, options: AwsJsonTransportOptions): AwsJsonTransport {
  const signer = createSigner(service, options);
  const maxAttempts = options.maxAttempts ?? 4;
  return async (operation, body, abortSignal) => {
    const url = `${(await options.endpoint()).replace(/\/$/, '')}/`;
    for (let attempt = 1; ; attempt++) {
      let error: AwsJsonError;
      try {
        const response = await sendSigned(signer, options, {
          method: 'POST',
          url,
          headers: { 'content-type': `application/x-amz-json-${options.jsonVersion ?? '1.0'}`, 'x-amz-target': `${targetPrefix}.${operation}` },
          body: JSON.stringify(body),
        }, abortSignal);
        const parsed = response.text ? JSON.parse(response.text) : {};
        if (response.statusCode >= 200 && response.statusCode < 300) return parsed;
        const type = String(parsed.__type ?? `HTTP${response.statusCode}`).split('#').pop()!;
        error = new AwsJsonError(type, `${service} ${operation}: ${type}: ${parsed.message ?? parsed.Message ?? ''}`.trim(),
          response.statusCode >= 500 || RETRYABLE.has(type), parsed.Item);
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        error = new AwsJsonError((e as Error)?.name ?? 'NetworkError', `${service} ${operation}: ${(e as Error)?.message}`, true);
      }
      if (!error.retryable || attempt >= maxAttempts) throw error;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  };
}

/** A service's endpoint in the handler's environment: `AWS_ENDPOINT_URL_<ENV>`, `AWS_ENDPOINT_URL`, or the region's. */
export function serviceEndpoint(service: string, envName: string, region: SigningOptions['region']): () => Promise<string> {
  const regionName = typeof region === 'string' ? async () => region : region;
  return async () => process.env[`AWS_ENDPOINT_URL_${envName}`] ?? process.env.AWS_ENDPOINT_URL ?? `https://${service}.${await regionName()}.amazonaws.com`;
}
