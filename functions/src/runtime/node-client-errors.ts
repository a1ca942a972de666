// What Node answers a request its HTTP parser refuses before the app sees it (headers over Node's
// 16 KB limit, a request target with raw non-ASCII bytes, a malformed request line): the same
// problem+json as every other error of the edge, instead of Node's bare status line.
import type { Duplex } from 'node:stream';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem/index.js';

function answer(socket: Duplex, status: number, reason: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${bytes.byteLength}\r\n` +
      'cache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n' +
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
