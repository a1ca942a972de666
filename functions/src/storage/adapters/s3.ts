// The S3 API over fetch, signed with aws4fetch (SigV4 on WebCrypto), so the same adapter runs on
// Node, in workerd and against any S3-compatible server (SeaweedFS, MinIO, R2's S3 endpoint, AWS).
import { INTEGRITY_METADATA } from '@imf/contract';
import { AwsClient } from 'aws4fetch';
import type { ImageStore } from '../types.js';

export interface S3Options {
  /** e.g. http://127.0.0.1:8333 ; buckets are addressed path-style: <endpoint>/<bucket>/<key>. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  /** Per-call timeout; a hung store must not hold a request until the platform kills it. */
  timeoutMs?: number;
}

export class StorageError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'StorageError';
  }
}

export function s3Store(options: S3Options): ImageStore {
  const client = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    region: options.region ?? 'us-east-1',
    service: 's3',
    retries: 0,
  });
  const base = `${options.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(options.bucket)}`;
  const url = (key: string) => `${base}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const timeout = options.timeoutMs ?? 5000;
  const send = (target: string, init: RequestInit = {}) => client.fetch(target, { ...init, signal: AbortSignal.timeout(timeout) });

  return {
    async get(key) {
      const response = await send(url(key));
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new StorageError(`storage GET answered ${response.status}`, response.status);
      }
      const integrity = response.headers.get(`x-amz-meta-${INTEGRITY_METADATA}`);
      return {
        body: new Uint8Array(await response.arrayBuffer()),
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        ...(integrity !== null ? { integrity } : {}),
      };
    },
    async ready() {
      try {
        const response = await send(base, { method: 'HEAD' });
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}

/** The S3 store the environment names (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_REGION), or undefined when no endpoint is set. Both runtimes read
 * storage settings through this one function. */
export function s3StoreFromEnv(env: Record<string, unknown>): ImageStore | undefined {
  const endpoint = typeof env.S3_ENDPOINT === 'string' && env.S3_ENDPOINT ? env.S3_ENDPOINT : undefined;
  if (!endpoint) return undefined;
  return s3Store({
    endpoint,
    bucket: String(env.S3_BUCKET ?? 'images'),
    accessKeyId: String(env.S3_ACCESS_KEY_ID ?? ''),
    secretAccessKey: String(env.S3_SECRET_ACCESS_KEY ?? ''),
    region: String(env.S3_REGION ?? 'us-east-1'),
  });
}
