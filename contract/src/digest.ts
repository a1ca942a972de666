// SHA-256 and HMAC-SHA256 for every part. On Node they run synchronously through node:crypto: Web
// Crypto there hands each digest to libuv's thread pool, and on a busy machine that hop (a thread
// wake-up and a promise per hash) costs more than hashing a short request. Elsewhere (workerd, the
// browser) they use Web Crypto. Same bytes in, same digest out, in every runtime.
import { hmacKey } from './hmac-key.js';

interface NodeCrypto {
  createHash(algorithm: 'sha256'): { update(data: string | Uint8Array): { digest(): Uint8Array } };
  createHmac(algorithm: 'sha256', key: string): { update(data: string | Uint8Array): { digest(): Uint8Array } };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

/** node:crypto where the runtime has it (Node ≥ 20.16: process.getBuiltinModule), else undefined. */
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

const encoder = new TextEncoder();

/** Lowercase hex digits of the bytes. */
export function hex(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += b.toString(16).padStart(2, '0');
  return text;
}

/** Lowercase hex SHA-256 of the UTF-8 text. */
export async function sha256Hex(text: string): Promise<string> {
  if (nodeCrypto) return hex(nodeCrypto.createHash('sha256').update(text).digest());
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/** HMAC-SHA256 of `message` under the UTF-8 `secret`: 32 bytes. */
export async function hmacSha256(secret: string, message: Uint8Array): Promise<Uint8Array> {
  if (nodeCrypto) return nodeCrypto.createHmac('sha256', secret).update(message).digest();
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), message as Uint8Array<ArrayBuffer>));
}

/** Whether `mac` is the HMAC-SHA256 of `message` under `secret`, compared in constant time. */
export async function hmacSha256Matches(secret: string, message: Uint8Array, mac: Uint8Array): Promise<boolean> {
  if (nodeCrypto) {
    const expected = nodeCrypto.createHmac('sha256', secret).update(message).digest();
    return mac.byteLength === expected.byteLength && nodeCrypto.timingSafeEqual(mac, expected);
  }
  return crypto.subtle.verify('HMAC', await hmacKey(secret), mac as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
}
