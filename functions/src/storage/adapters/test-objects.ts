// Objects written straight into a storage backend, for tests: the edge only reads storage (the GPU
// worker writes it), so its adapters have no write; a test that needs an object puts it here.
import { INTEGRITY_METADATA } from '@imf/contract';
import { AwsClient } from 'aws4fetch';
import type { StoredObject } from '../types.js';

/** Writes one object (with its integrity tag, if given); what each backend's test uses to put images where the edge will look. */
export type ObjectWriter = (objectKey: string, image: StoredObject) => Promise<void>;

export interface S3Location {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

/** PUTs objects through the S3 API (path-style), as the worker does. */
export function s3ObjectWriter(location: S3Location): ObjectWriter {
  const client = new AwsClient({ accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey, region: location.region ?? 'us-east-1', service: 's3', retries: 0 });
  const base = `${location.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(location.bucket)}`;
  return async (key, image) => {
    const response = await client.fetch(`${base}/${key.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      body: image.body,
      headers: { 'content-type': image.contentType, ...(image.integrity !== undefined ? { [`x-amz-meta-${INTEGRITY_METADATA}`]: image.integrity } : {}) },
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`test PUT ${key} answered ${response.status}`);
  };
}

/** The part of an R2 bucket binding a test writes with (typed here so Node code can import this file). */
export interface R2Writable {
  put(key: string, body: Uint8Array, options: { httpMetadata: { contentType: string }; customMetadata?: Record<string, string> }): Promise<unknown>;
}

/** Puts objects into an R2 bucket binding. */
export function r2ObjectWriter(bucket: R2Writable): ObjectWriter {
  return async (key, image) => {
    await bucket.put(key, image.body, { httpMetadata: { contentType: image.contentType }, ...(image.integrity !== undefined ? { customMetadata: { [INTEGRITY_METADATA]: image.integrity } } : {}) });
  };
}
