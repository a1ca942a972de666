// Request logs as JSON lines, with secrets kept out: no Authorization header is ever read here,
// and the values of signatures and every secret-shaped parameter are replaced before a path is
// written anywhere.
import { MAC_PARAM } from '@imf/contract';

export type LogSink = (line: Record<string, unknown>) => void;

export const consoleSink: LogSink = (line) => console.log(JSON.stringify(line));

// Any parameter whose name says it carries a secret: the signature's MAC, and the names other
// services give keys and tokens (access_token, api-key, apikey, X-Amz-Signature, password, …),
// matched on the decoded name so `%74oken` is a token too.
const SECRET_NAME = new RegExp(`^${MAC_PARAM}$|key|token|secret|sig|auth|pass|pwd|credential|session|jwt|bearer`, 'i');

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** The path and query with the value of every secret-shaped parameter redacted. */
export function redactPath(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return pathAndQuery;
  const query = pathAndQuery
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return SECRET_NAME.test(decodedName(name)) ? `${name}=REDACTED` : pair;
    })
    .join('&');
  return `${pathAndQuery.slice(0, q + 1)}${query}`;
}
