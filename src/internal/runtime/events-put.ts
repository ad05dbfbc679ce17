import { awsJsonTransport, serviceEndpoint } from './json-protocol';
import type { SigningOptions } from './signed-request';

/** Publishes one event (`Source`, `DetailType`, `Detail` as JSON) to a bus; throws when EventBridge did not take it. */
export type PutEvent = (bus: string, source: string, detailType: string, detail: unknown) => Promise<void>;

/** EventBridge `PutEvents` (one entry) over the JSON 1.1 protocol, signed with SigV4 (no EventBridge client in the bundle). */
export function eventsPutEvent(options: SigningOptions, endpoint?: string): PutEvent {
  const transport = awsJsonTransport('events', 'AWSEvents', {
    ...options, jsonVersion: '1.1', endpoint: endpoint ? async () => endpoint : serviceEndpoint('events', 'EVENTBRIDGE', options.region),
  });
  return async (bus, source, detailType, detail) => {
    const answer = await transport('PutEvents', { Entries: [{ EventBusName: bus, Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }] });
    if ((answer.FailedEntryCount ?? 0) > 0) {
      const entry = (answer.Entries ?? []).find((e: any) => e.ErrorCode);
      throw new Error(`PutEvents failed: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  };
}
