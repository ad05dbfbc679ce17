export type LogLevel = 'INFO' | 'WARN' | 'ERROR';
export type LogFn = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Structured JSON log lines on stdout, one per call (Lambda sends them to CloudWatch Logs). */
export const jsonLog: LogFn = (level, message, fields = {}) => {
  console.log(JSON.stringify({ level, message, ...fields }));
};

/** An error as one line: `Name: message`, or the message alone for the handlers' own errors. */
export function errorText(e: unknown, bare: (e: Error) => boolean = () => false): string {
  if (e instanceof Error) return bare(e) ? e.message : `${e.name}: ${e.message}`;
  return String(e);
}
