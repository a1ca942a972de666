// The integrity tag of a stored image: HMAC-SHA256, with a key the GPU workers (which write storage)
// and the edge (which reads it) share, over everything about the object that is served: its object
// key, its content type, every metadata field stored with it (the generation parameters, whatever
// they are, so a parameter added later is covered without a change here) and its bytes. The workers
// store it with the object (S3 user metadata `x-amz-meta-imf-integrity`, R2 custom metadata); a
// reader that finds a missing or wrong tag treats the object as absent, so an object written or
// altered by anyone without the key (its bytes, or only its Content-Type or metadata, through the
// storage server's own ports) is never served. The key in the message keeps a tagged object from
// being copied under another object's key.
import { hex, hmacSha256, hmacSha256Matches, type MessageParts } from './digest.js';

/** The metadata name the tag is stored under (S3: `x-amz-meta-imf-integrity`). */
export const INTEGRITY_METADATA = 'imf-integrity';

/** What the tag covers of an object, besides its key: what a reader serves. */
export interface IntegrityFields {
  body: Uint8Array;
  contentType: string;
  /** Every stored field; the tag's own field, if present, is left out of the message. */
  metadata?: Readonly<Record<string, string>>;
}

const encoder = new TextEncoder();

/**
 * The signed message: a version line, the object key, the content type, then the metadata as
 * `name=value` lines sorted by name (names lowercase, as S3 and R2 return them), an empty line, and
 * the bytes. Names and values are JSON-quoted, so no field can pass for another. Given as two
 * parts, the head and the bytes, so an image is hashed where it lies instead of copied behind it.
 */
function message(objectKey: string, { body, contentType, metadata = {} }: IntegrityFields): MessageParts {
  const fields = Object.entries(metadata)
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name !== INTEGRITY_METADATA)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${JSON.stringify(name)}=${JSON.stringify(value)}\n`)
    .join('');
  return [encoder.encode(`imf-integrity/2\n${JSON.stringify(objectKey)}\n${JSON.stringify(contentType)}\n${fields}\n`), body];
}

/** The tag to store with the object: 64 lowercase hex digits. */
export async function integrityTag(secret: string, objectKey: string, object: IntegrityFields): Promise<string> {
  return hex(await hmacSha256(secret, message(objectKey, object)));
}

/**
 * Whether the object read back under `objectKey` carries its own tag (compared in constant time),
 * from its metadata unless `tag` is given. A missing or malformed tag does not match.
 */
export async function integrityMatches(secret: string, objectKey: string, object: IntegrityFields, tag: string | undefined | null = object.metadata?.[INTEGRITY_METADATA]): Promise<boolean> {
  if (!tag || !/^[0-9a-f]{64}$/.test(tag)) return false;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(tag.slice(2 * i, 2 * i + 2), 16);
  return hmacSha256Matches(secret, message(objectKey, object), bytes);
}
