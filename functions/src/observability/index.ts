// Request logs as JSON lines, with secrets kept out: no Authorization header is ever read here,
// and URL signatures are replaced before a path is written anywhere.

export type LogSink = (line: Record<string, unknown>) => void;

export const consoleSink: LogSink = (line) => console.log(JSON.stringify(line));

/** The path and query with the value of every signature or token parameter redacted. */
export function redactPath(pathAndQuery: string): string {
  return pathAndQuery.replace(/([?&](?:sig|token|key|api_key)=)[^&]*/gi, '$1REDACTED');
}
