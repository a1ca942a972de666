// What every S3 adapter shares, whatever carries its requests (node:http, fetch): where a bucket and
// its objects are addressed, the headers a write sends, and how a read's headers become an object.
import { IMMUTABLE_CACHE_CONTROL } from '../image-key.js';
import type { ImageObject, StoredObject } from './types.js';

export interface S3Location {
  /**
   * The server, e.g. http://127.0.0.1:8333 (SeaweedFS, MinIO) or https://<account>.r2.cloudflarestorage.com;
   * unset: AWS S3 itself, https://s3.<region>.amazonaws.com.
   */
  endpoint?: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (AWS_SESSION_TOKEN). */
  sessionToken?: string | undefined;
  /**
   * <endpoint>/<bucket>/<key> (path-style; the default, and what local servers expect) or
   * <bucket>.<endpoint host>/<key> (virtual-hosted, e.g. AWS buckets created after 2020 with dots-free names).
   */
  forcePathStyle?: boolean | undefined;
}

export interface S3Address {
  /** scheme://host[:port] the requests go to. */
  origin: string;
  /** The Host header the signature covers. */
  host: string;
  /** The bucket's path (for HEAD bucket): "/<bucket>" path-style, "/" virtual-hosted. */
  bucketPath: string;
  objectPath(objectKey: string): string;
}

const METADATA_PREFIX = 'x-amz-meta-';

const encodeKey = (objectKey: string) => objectKey.split('/').map(encodeURIComponent).join('/');

export function s3Address(location: S3Location): S3Address {
  const endpoint = new URL(location.endpoint ?? `https://s3.${location.region}.amazonaws.com`);
  if (location.forcePathStyle ?? true) {
    const bucketPath = `/${encodeURIComponent(location.bucket)}`;
    return { origin: endpoint.origin, host: endpoint.host, bucketPath, objectPath: (key) => `${bucketPath}/${encodeKey(key)}` };
  }
  const host = `${location.bucket}.${endpoint.host}`;
  return { origin: `${endpoint.protocol}//${host}`, host, bucketPath: '/', objectPath: (key) => `/${encodeKey(key)}` };
}

/** The headers of a PUT: type, immutable cache policy, metadata as x-amz-meta-*, and If-None-Match: * for write-once. */
export function putHeaders(image: ImageObject, ifAbsent: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': image.contentType, 'cache-control': IMMUTABLE_CACHE_CONTROL };
  for (const [name, value] of Object.entries(image.metadata)) headers[`${METADATA_PREFIX}${name}`] = value;
  if (ifAbsent) headers['if-none-match'] = '*';
  return headers;
}

/** The object a GET answered, from its body and its response headers as [lowercase name, value] pairs. */
export function storedObject(body: Uint8Array<ArrayBuffer>, headers: Iterable<[string, string]>): StoredObject {
  const object: StoredObject = { body, contentType: 'application/octet-stream', metadata: {} };
  for (const [name, value] of headers) {
    if (name.startsWith(METADATA_PREFIX)) object.metadata[name.slice(METADATA_PREFIX.length)] = value;
    else if (name === 'content-type') object.contentType = value;
    else if (name === 'cache-control') object.cacheControl = value;
  }
  return object;
}

/**
 * The S3 location the environment names (S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY), or undefined when no endpoint is set. The edge's runtimes read storage
 * settings through this one function.
 */
export function s3LocationFromEnv(env: Record<string, unknown>): S3Location | undefined {
  const text = (name: string) => (typeof env[name] === 'string' && env[name] !== '' ? (env[name] as string) : undefined);
  const endpoint = text('S3_ENDPOINT');
  if (!endpoint) return undefined;
  return {
    endpoint,
    bucket: text('S3_BUCKET') ?? 'images',
    region: text('S3_REGION') ?? 'us-east-1',
    accessKeyId: text('S3_ACCESS_KEY_ID') ?? '',
    secretAccessKey: text('S3_SECRET_ACCESS_KEY') ?? '',
  };
}
