// Request logs as JSON lines, with secrets kept out: no Authorization header is ever read here,
// and URL signatures are replaced before a path is written anywhere.
import { MAC_PARAM } from '@imf/contract';

export type LogSink = (line: Record<string, unknown>) => void;

export const consoleSink: LogSink = (line) => console.log(JSON.stringify(line));

// The signature's MAC, and the names other services commonly give secrets in a query.
const SECRET_PARAMS = new RegExp(`([?&](?:${MAC_PARAM}|token|key|api_key)=)[^&]*`, 'gi');

/** The path and query with the value of every signature or token parameter redacted. */
export function redactPath(pathAndQuery: string): string {
  return pathAndQuery.replace(SECRET_PARAMS, '$1REDACTED');
}
