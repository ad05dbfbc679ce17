/**
 * HTTP settings of every client the handlers create. Without
 * throwOnRequestTimeout the SDK only logs a warning when the timeout passes.
 */
export const REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };

/** Settings of every client the handlers create: 4 attempts, bounded requests. */
export const CLIENT_DEFAULTS = { maxAttempts: 4, requestHandler: REQUEST_HANDLER };
