// The S3 API through @aws-sdk/client-s3: AWS, R2, MinIO, SeaweedFS. Checksums only when an operation
// requires them (non-AWS servers reject the SDK's default trailing checksums); write-once through
// If-None-Match: * where the server supports it, else a HEAD before the PUT.
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { WorkerError } from '../../errors.js';
import { IMMUTABLE_CACHE_CONTROL } from '@imf/contract';
import type { ImageObject, ImageStore, PutOutcome, StoredImage } from '../types.js';

export interface S3StoreOptions {
  /** Unset for AWS itself; e.g. http://127.0.0.1:8333 for a local server. */
  endpoint?: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Unset: the SDK's default chain (AWS_* variables, instance roles, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Use If-None-Match: * on PUT (S3, R2, MinIO and SeaweedFS support it). */
  conditionalPut: boolean;
  /** Per-attempt timeout, so a hung store cannot hold a request forever. */
  timeoutMs: number;
  maxAttempts: number;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function storageError(operation: string, error: unknown): WorkerError {
  const status = statusOf(error);
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new WorkerError('storage', `storage ${operation} failed${status ? ` (HTTP ${status})` : ''}: ${what}`, 2);
}

export function s3Store(options: S3StoreOptions): ImageStore {
  const client = new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts,
    // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and
    // keeps waiting, so a hung store would hold its requests for ever.
    requestHandler: { connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs, throwOnRequestTimeout: true },
  });
  const Bucket = options.bucket;

  // One PUT with a known length: S3 servers store an object only once its whole body arrived, so a
  // connection lost mid-upload leaves nothing behind.
  async function put(Key: string, image: ImageObject, ifNoneMatch: boolean): Promise<void> {
    await client.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: image.body,
        ContentLength: image.body.byteLength,
        ContentType: image.contentType,
        CacheControl: IMMUTABLE_CACHE_CONTROL,
        Metadata: image.metadata,
        ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  async function exists(Key: string): Promise<boolean> {
    try {
      await client.send(new HeadObjectCommand({ Bucket, Key }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw storageError('HEAD', error);
    }
  }

  return {
    kind: 's3',
    async get(Key): Promise<StoredImage | undefined> {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket, Key }));
        const body = await object.Body!.transformToByteArray();
        return {
          body,
          contentType: object.ContentType ?? 'application/octet-stream',
          cacheControl: object.CacheControl ?? '',
          metadata: { ...object.Metadata },
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw storageError('GET', error);
      }
    },
    async putIfAbsent(Key, image: ImageObject): Promise<PutOutcome> {
      if (!options.conditionalPut && (await exists(Key))) return 'exists';
      try {
        await put(Key, image, options.conditionalPut);
        return 'created';
      } catch (error) {
        if (statusOf(error) === 412) return 'exists';
        throw storageError('PUT', error);
      }
    },
    async replace(Key, image: ImageObject): Promise<void> {
      try {
        await put(Key, image, false);
      } catch (error) {
        throw storageError('PUT', error);
      }
    },
    async ready(): Promise<boolean> {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
        return true;
      } catch {
        return false;
      }
    },
  };
}
