// What Node answers a request refused before the app sees it: by its HTTP parser (headers over
// Node's 16 KB limit, a request target with raw non-ASCII bytes, a malformed request line, headers
// or a request not received in time) or by @hono/node-server while it builds the Request (a
// backslash in the path, `GET *`, no Host): the same problem+json, with the same security headers,
// as every other error of the edge, instead of a bare status line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SECURITY_HEADERS } from '../headers/index.js';
import { problem, problemResponse, PROBLEM_CONTENT_TYPE } from '../problem/index.js';

const securityHeaderLines = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

function answer(socket: Duplex, status: number, reason: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${bytes.byteLength}\r\n` +
      `cache-control: no-store\r\n${securityHeaderLines}connection: close\r\n\r\n` +
      bytes.toString('latin1'),
    'latin1',
  );
}

/** Answers parser errors on `server` with problem+json (where the socket can still be written to). */
export function answerClientErrors(server: { on(event: 'clientError', listener: (error: Error, socket: Duplex) => void): unknown }): void {
  server.on('clientError', (failure, socket) => {
    const error = failure as NodeJS.ErrnoException;
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A connection that sent no complete request within the headers or request timeout.
      const p = { ...problem('invalid-parameters', 'the request did not arrive in time'), status: 408, title: 'Request timeout' };
      answer(socket, 408, 'Request Timeout', JSON.stringify(p));
      return;
    }
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      const p = { ...problem('invalid-parameters', 'the request headers are larger than this server accepts (16 KB)'), status: 431, title: 'Request header fields too large' };
      answer(socket, 431, 'Request Header Fields Too Large', JSON.stringify(p));
      return;
    }
    const p = problem('invalid-parameters', 'the request could not be parsed as HTTP/1.1 (a request target must be ASCII: percent-encode other bytes)', {
      errors: [{ parameter: '(request)', rule: 'format', detail: 'malformed request line or headers' }],
    });
    answer(socket, 400, 'Bad Request', JSON.stringify(p));
  });
}

/**
 * The answer to a request @hono/node-server could not turn into a Request (its RequestError: a
 * backslash in the path, an asterisk or absolute-form target it refuses, no Host): a 400 problem.
 */
export function requestErrorResponse(error: unknown): Response {
  if (!(error instanceof Error) || error.name !== 'RequestError') {
    return problemResponse(problem('internal', 'the request failed unexpectedly'), Object.assign({}, SECURITY_HEADERS));
  }
  const reason = error instanceof Error ? error.message : 'invalid request';
  const p = problem('invalid-parameters', `the request could not be read: ${reason.slice(0, 100)} (send an origin-form path, percent-encoded, with a Host header)`, {
    errors: [{ parameter: '(request)', rule: 'format', detail: 'request target or Host header' }],
  });
  return problemResponse(p, Object.assign({}, SECURITY_HEADERS, { connection: 'close' }));
}

/**
 * Answers an HTTP/1.1 request without a Host header (which Node would refuse with a bare 400, and
 * @hono/node-server would fill in with the listening address) with a 400 problem; true if it did.
 */
export function refuseMissingHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return false;
  const p = problem('invalid-parameters', 'an HTTP/1.1 request must carry a Host header', { errors: [{ parameter: 'host', rule: 'required', detail: 'the Host header is missing' }] });
  const body = JSON.stringify(p);
  res.writeHead(400, Object.assign({ 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', connection: 'close' }, SECURITY_HEADERS));
  res.end(body);
  return true;
}
