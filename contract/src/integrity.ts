// The integrity tag of a stored image: HMAC-SHA256 over the object key and the bytes, with a key the
// GPU workers (which write storage) and the edge (which reads it) share. The workers store it with
// the object (S3 user metadata `x-amz-meta-imf-integrity`, R2 custom metadata); a reader that finds
// a missing or wrong tag treats the object as absent, so bytes written by anyone without the key
// (through the storage server's own ports, say) are never served. The key in the message keeps a
// tagged object from being copied under another object's key.
import { hex, hmacSha256, hmacSha256Matches } from './digest.js';

/** The metadata name the tag is stored under (S3: `x-amz-meta-imf-integrity`). */
export const INTEGRITY_METADATA = 'imf-integrity';

const encoder = new TextEncoder();

function message(objectKey: string, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const name = encoder.encode(`imf-integrity/1\n${objectKey}\n`);
  const out = new Uint8Array(name.byteLength + body.byteLength);
  out.set(name, 0);
  out.set(body, name.byteLength);
  return out;
}

/** The tag to store with the object: 64 lowercase hex digits. */
export async function integrityTag(secret: string, objectKey: string, body: Uint8Array): Promise<string> {
  return hex(await hmacSha256(secret, message(objectKey, body)));
}

/** Whether `tag` is the object's tag (compared in constant time). A missing tag is not. */
export async function integrityMatches(secret: string, objectKey: string, body: Uint8Array, tag: string | undefined | null): Promise<boolean> {
  if (!tag || !/^[0-9a-f]{64}$/.test(tag)) return false;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(tag.slice(2 * i, 2 * i + 2), 16);
  return hmacSha256Matches(secret, message(objectKey, body), bytes);
}
