/// <reference types="node" />
// The S3 API on Node: requests signed with the `aws4` SigV4 signer and sent over node:http(s) on a
// keep-alive agent, the cheapest client in CPU per call that was measured (gpu-worker/README.md,
// "Storage client cost"): on a two-core worker that CPU is taken from inference. Write-once through
// If-None-Match: * (412: the object exists) where the server supports it, else a HEAD before the PUT.
// A PUT's body is sent as UNSIGNED-PAYLOAD: SigV4 would otherwise hash every image on the event
// loop, and the bytes are already covered by the integrity tag every read checks
// (contract/src/integrity.ts); the signature still covers the method, key, headers and metadata.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import aws4 from 'aws4';
import { s3Address, putHeaders, storedObject, type S3Location } from '../s3-api.js';
import { StorageError, type ImageObject, type ImageStore, type PutOutcome } from '../types.js';

export interface NodeS3Options extends S3Location {
  /** Use If-None-Match: * on PUT (AWS S3, R2, MinIO and SeaweedFS support it); false: HEAD, then PUT. */
  conditionalPut?: boolean;
  /** Per attempt, from sending to the last byte: a hung store fails the call instead of holding it. */
  timeoutMs?: number;
  /** Attempts per call; only network errors before an answer, and 5xx answers, are tried again. */
  maxAttempts?: number;
  /** Connections kept open to the server at most. */
  maxSockets?: number;
}

/** The SigV4 content hash of a body the signature does not cover. */
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An attempt that may be made again: the request never got an answer, or the server answered 5xx. */
class Transient extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function nodeS3Store(options: NodeS3Options): ImageStore {
  const address = s3Address(options);
  const https = address.origin.startsWith('https:');
  const send = https ? httpsRequest : httpRequest;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const { hostname, port } = new URL(address.origin);
  const credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) };
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxAttempts = options.maxAttempts ?? 2;
  const conditionalPut = options.conditionalPut ?? true;

  function attempt(method: string, path: string, headers: Record<string, string>, body?: Uint8Array): Promise<Answer> {
    const payload = body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined;
    if (payload) {
      headers['content-length'] = String(payload.byteLength);
      headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
    }
    const signed = aws4.sign({ host: address.host, path, method, headers, service: 's3', region: options.region }, credentials);
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = send({ hostname, port, method, path, headers: signed.headers as Record<string, string>, agent });
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(answered ? error : new Transient(error.message));
      };
      request.on('error', fail);
      request.on('response', (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          const answer = { status: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
          if (answer.status >= 500) reject(new Transient(`answered ${answer.status}`, answer.status));
          else resolve(answer);
        });
      });
      request.end(payload);
    });
  }

  async function call(operation: string, method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array): Promise<Answer> {
    for (let attempts = 1; ; attempts++) {
      try {
        return await attempt(method, path, { ...headers }, body);
      } catch (error) {
        if (!(error instanceof Transient) || attempts >= maxAttempts) {
          const status = error instanceof Transient ? error.status : undefined;
          throw new StorageError(`storage ${operation} failed after ${attempts} attempt(s): ${(error as Error).message}`, 'unavailable', status);
        }
      }
    }
  }

  const unexpected = (operation: string, answer: Answer) => new StorageError(`storage ${operation} answered ${answer.status}`, 'unavailable', answer.status);

  async function put(objectKey: string, image: ImageObject, ifAbsent: boolean): Promise<PutOutcome> {
    // One PUT with a known length: S3 servers store an object only once its whole body arrived, so a
    // connection lost mid-upload leaves nothing behind.
    const answer = await call('PUT', 'PUT', address.objectPath(objectKey), putHeaders(image, ifAbsent), image.body);
    if (answer.status === 412) return 'exists';
    if (answer.status >= 300) throw unexpected('PUT', answer);
    return 'created';
  }

  return {
    kind: 's3',
    async get(objectKey) {
      const answer = await call('GET', 'GET', address.objectPath(objectKey));
      if (answer.status === 404) return undefined;
      if (answer.status >= 300) throw unexpected('GET', answer);
      const body = new Uint8Array(answer.body.buffer as ArrayBuffer, answer.body.byteOffset, answer.body.byteLength);
      return storedObject(body, Object.entries(answer.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
    },
    async putIfAbsent(objectKey, image) {
      if (!conditionalPut) {
        const head = await call('HEAD', 'HEAD', address.objectPath(objectKey));
        if (head.status === 200) return 'exists';
        if (head.status !== 404) throw unexpected('HEAD', head);
      }
      return put(objectKey, image, conditionalPut);
    },
    async replace(objectKey, image) {
      await put(objectKey, image, false);
    },
    async ready() {
      try {
        return (await call('HEAD bucket', 'HEAD', address.bucketPath)).status === 200;
      } catch {
        return false;
      }
    },
  };
}
