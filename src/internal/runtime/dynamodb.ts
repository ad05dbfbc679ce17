import { createSigner, sendSigned, SigningOptions } from './signed-request';

/** Sends one DynamoDB JSON-protocol operation and returns its parsed answer; throws `DynamoError`. */
export type DynamoTransport = (operation: string, body: Record<string, unknown>, abortSignal?: AbortSignal) => Promise<any>;

/** A DynamoDB error with its type (`ConditionalCheckFailedException`, `ThrottlingException`, ...). */
export class DynamoError extends Error {
  /** `item`: the item as it was, when a condition failed and ReturnValuesOnConditionCheckFailure was ALL_OLD. */
  constructor(public readonly type: string, message: string, public readonly retryable: boolean, public readonly item?: Record<string, any>) {
    super(message);
    this.name = type;
  }
}

const RETRYABLE = new Set([
  'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'InternalServerError',
  'ServiceUnavailable', 'TransactionInProgressException', 'LimitExceededException',
]);

export interface DynamoTransportOptions extends SigningOptions {
  /** Base URL: `AWS_ENDPOINT_URL_DYNAMODB`, or `https://dynamodb.<region>.amazonaws.com`. */
  readonly endpoint: () => Promise<string>;
  /** Attempts per operation (throttling, 5xx, dropped connections). @default 4 */
  readonly maxAttempts?: number;
}

/**
 * DynamoDB over SigV4-signed HTTP (the JSON 1.0 protocol), with the SDK's
 * retry rules in small: throttling, 5xx and network errors are retried with
 * jittered exponential backoff; a condition that failed is not.
 */
export function dynamoTransport(options: DynamoTransportOptions): DynamoTransport {
  const signer = createSigner('dynamodb', options);
  const maxAttempts = options.maxAttempts ?? 4;
  return async (operation, body, abortSignal) => {
    const url = `${(await options.endpoint()).replace(/\/$/, '')}/`;
    for (let attempt = 1; ; attempt++) {
      let error: DynamoError;
      try {
        const response = await sendSigned(signer, options, {
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
          body: JSON.stringify(body),
        }, abortSignal);
        const parsed = response.text ? JSON.parse(response.text) : {};
        if (response.statusCode >= 200 && response.statusCode < 300) return parsed;
        const type = String(parsed.__type ?? `HTTP${response.statusCode}`).split('#').pop()!;
        error = new DynamoError(type, `DynamoDB ${operation}: ${type}: ${parsed.message ?? parsed.Message ?? ''}`.trim(),
          response.statusCode >= 500 || RETRYABLE.has(type), parsed.Item);
      } catch (e) {
        if (abortSignal?.aborted) throw e;
        error = new DynamoError((e as Error)?.name ?? 'NetworkError', `DynamoDB ${operation}: ${(e as Error)?.message}`, true);
      }
      if (!error.retryable || attempt >= maxAttempts) throw error;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  };
}

/** The DynamoDB endpoint of the handler's environment. */
export function dynamoEndpoint(region: () => Promise<string>): () => Promise<string> {
  return async () => process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? `https://dynamodb.${await region()}.amazonaws.com`;
}

type AttributeValue =
  | { S: string } | { N: string } | { BOOL: boolean } | { L: AttributeValue[] } | { M: Record<string, AttributeValue> } | { NULL: true };

/** A plain value as a DynamoDB attribute value (strings, numbers, booleans, lists, maps). */
export function marshall(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(marshall) };
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return { M: Object.fromEntries(entries.map(([k, v]) => [k, marshall(v)])) };
  }
  throw new Error(`cannot store a ${typeof value} in DynamoDB`);
}

/** A DynamoDB attribute value as a plain value. */
export function unmarshall(value: any): any {
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('NULL' in value) return null;
  if ('L' in value) return value.L.map(unmarshall);
  if ('M' in value) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, unmarshall(v)]));
  if ('SS' in value) return [...value.SS];
  throw new Error(`unsupported DynamoDB attribute value ${JSON.stringify(value)}`);
}

/** An item as a plain object. */
export function unmarshallItem(item: Record<string, any> | undefined): Record<string, any> | undefined {
  return item ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, unmarshall(v)])) : undefined;
}
