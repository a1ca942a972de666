// The S3 API over fetch, signed with aws4fetch (SigV4 on WebCrypto): the storage port in workerd
// (local dev against SeaweedFS, R2's S3 endpoint) and anywhere without node:http. On Node the edge
// uses nodeS3Store (@imf/contract/storage/node), which costs a fraction of the CPU per call.
import { putHeaders, s3Address, storedObject, StorageError, type ImageObject, type ImageStore, type S3Location } from '@imf/contract';
import { AwsClient } from 'aws4fetch';

export interface FetchS3Options extends S3Location {
  /** Per call: a hung store must not hold a request until the platform kills it. */
  timeoutMs?: number;
}

export function fetchS3Store(options: FetchS3Options): ImageStore {
  const client = new AwsClient({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}),
    region: options.region,
    service: 's3',
    retries: 0,
  });
  const address = s3Address(options);
  const url = (path: string) => `${address.origin}${path}`;
  const timeout = options.timeoutMs ?? 5000;

  async function send(operation: string, path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await client.fetch(url(path), { ...init, signal: AbortSignal.timeout(timeout) });
    } catch (error) {
      throw new StorageError(`storage ${operation} failed: ${(error as Error).message}`);
    }
  }

  async function unexpected(operation: string, response: Response): Promise<StorageError> {
    await response.body?.cancel();
    return new StorageError(`storage ${operation} answered ${response.status}`, 'unavailable', response.status);
  }

  async function put(objectKey: string, image: ImageObject, ifAbsent: boolean) {
    const response = await send('PUT', address.objectPath(objectKey), { method: 'PUT', body: image.body.slice(), headers: putHeaders(image, ifAbsent) });
    if (response.status === 412) {
      await response.body?.cancel();
      return 'exists' as const;
    }
    if (!response.ok) throw await unexpected('PUT', response);
    await response.body?.cancel();
    return 'created' as const;
  }

  return {
    kind: 's3',
    async get(objectKey) {
      const response = await send('GET', address.objectPath(objectKey));
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) throw await unexpected('GET', response);
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => headers.push([name, value]));
      return storedObject(new Uint8Array(await response.arrayBuffer()), headers);
    },
    putIfAbsent: (objectKey, image) => put(objectKey, image, true),
    async replace(objectKey, image) {
      await put(objectKey, image, false);
    },
    async ready() {
      try {
        const response = await send('HEAD bucket', address.bucketPath, { method: 'HEAD' });
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}
