// Reads a JSON request body of at most `maxBytes`, counting bytes as they stream in, so a missing
// or lying Content-Length cannot get a larger body into memory. Errors come back as problems.
import { problem, type Problem } from '../problem/index.js';

export async function readJsonBody(request: Request, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false; problem: Problem }> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    return { ok: false, problem: problem('unsupported-media-type', 'send the body as application/json', { errors: [{ parameter: 'content-type', rule: 'enum', detail: 'content-type must be application/json' }] }) };
  }
  const tooLarge = (): { ok: false; problem: Problem } => ({
    ok: false,
    problem: problem('payload-too-large', `the JSON body must be at most ${maxBytes} bytes`, { errors: [{ parameter: '(body)', rule: 'range', detail: `at most ${maxBytes} bytes` }] }),
  });
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) return tooLarge();

  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel();
          return tooLarge();
        }
        chunks.push(value);
      }
    } catch {
      // The client went away mid-body (the stream errors with "aborted"): its request, not our fault.
      return { ok: false, problem: problem('invalid-parameters', 'the request body ended before it was complete', { errors: [{ parameter: '(body)', rule: 'format', detail: 'the body was cut off' }] }) };
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)) };
  } catch {
    return { ok: false, problem: problem('invalid-parameters', 'the body is not valid JSON', { errors: [{ parameter: '(body)', rule: 'format', detail: 'must be a JSON object' }] }) };
  }
}
