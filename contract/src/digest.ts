// SHA-256 and HMAC-SHA256 for every part. On Node they run synchronously through node:crypto: Web
// Crypto there hands each digest to libuv's thread pool, and on a busy machine that hop (a thread
// wake-up and a promise per hash) costs more than hashing a short request. Elsewhere (workerd, the
// browser) they use Web Crypto. Same bytes in, same digest out, in every runtime.
import { concatBytes } from './bytes.js';
import { hmacKey } from './hmac-key.js';

interface NodeHmac {
  update(data: string | Uint8Array): NodeHmac;
  digest(): Uint8Array;
}

interface NodeCrypto {
  createHash(algorithm: 'sha256'): { update(data: string | Uint8Array): { digest(): Uint8Array } };
  createHmac(algorithm: 'sha256', key: string): NodeHmac;
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

/**
 * A message given as consecutive parts (a header and an image's bytes): node:crypto hashes them in
 * turn, so an image is not copied only to be signed; Web Crypto takes one buffer, joined here.
 */
export type MessageParts = Uint8Array | readonly Uint8Array[];

function joined(message: MessageParts): Uint8Array<ArrayBuffer> {
  return Array.isArray(message) ? concatBytes(message as readonly Uint8Array[]) : (message as Uint8Array<ArrayBuffer>);
}

function nodeHmac(crypto: NodeCrypto, secret: string, message: MessageParts): Uint8Array {
  const hmac = crypto.createHmac('sha256', secret);
  for (const part of Array.isArray(message) ? (message as readonly Uint8Array[]) : [message as Uint8Array]) hmac.update(part);
  return hmac.digest();
}

/** HMAC-SHA256 of `message` under the UTF-8 `secret`: 32 bytes. */
export async function hmacSha256(secret: string, message: MessageParts): Promise<Uint8Array> {
  if (nodeCrypto) return nodeHmac(nodeCrypto, secret, message);
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), joined(message)));
}

/** Whether `mac` is the HMAC-SHA256 of `message` under `secret`, compared in constant time. */
export async function hmacSha256Matches(secret: string, message: MessageParts, mac: Uint8Array): Promise<boolean> {
  if (nodeCrypto) {
    const expected = nodeHmac(nodeCrypto, secret, message);
    return mac.byteLength === expected.byteLength && nodeCrypto.timingSafeEqual(mac, expected);
  }
  return crypto.subtle.verify('HMAC', await hmacKey(secret), mac as Uint8Array<ArrayBuffer>, joined(message));
}
