import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import type { AwsCredentialIdentity } from '@smithy/types';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the bundled handlers
 * (an esbuild alias, see `.projenrc.ts`). Lambda hands a function its role's
 * credentials in environment variables (or, on runtimes that use one, a
 * container credentials endpoint); the SSO, INI, process, web-identity and
 * IMDS providers of the default chain never apply there, and dropping them
 * takes ~120 KB and ~10 ms of module initialisation out of every cold start.
 */
export function defaultProvider(init: Record<string, any> = {}): () => Promise<AwsCredentialIdentity> {
  const env = fromEnv(init);
  let cached: AwsCredentialIdentity | undefined;
  return async () => {
    const fresh = cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > 5 * 60_000);
    if (!fresh) {
      try {
        cached = await env();
      } catch {
        cached = await fromHttp(init)();
      }
    }
    return cached!;
  };
}
