/**
 * Parses a handler config that a construct rendered into an environment
 * variable. A bad config is a deployment bug: the handler fails at init with
 * a message that says what is wrong.
 */
export function parseHandlerConfig<T extends { readonly version: number }>(
  what: string, envName: string, text: string | undefined, version: number, required: ReadonlyArray<keyof T>,
): T {
  if (!text) {
    throw new Error(`${what} config is missing: the ${envName} environment variable is not set`);
  }
  const config = JSON.parse(text) as T;
  if (config.version !== version) {
    throw new Error(`${what} config version ${config.version} is not supported (expected ${version})`);
  }
  for (const key of required) {
    if (!config[key]) throw new Error(`${what} config has no '${String(key)}'`);
  }
  return config;
}
