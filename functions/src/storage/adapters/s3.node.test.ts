// The S3 adapter over fetch on Node against the storage contract, on a real SeaweedFS server over
// HTTP (started by the global setup), and its failures. The Node runtime's own S3 adapter
// (nodeS3Store) runs the same suite, and its outage tests, with the worker: gpu-worker/src/storage/s3.test.ts.
import { StorageError } from '@imf/contract';
import { describe, expect, inject, it } from 'vitest';
import { describeStorageContract } from '../../../../contract/src/testing/storage-contract.js';
import { fetchS3Store } from './s3.js';

const { s3 } = inject('edge');

describeStorageContract('S3 over fetch + aws4fetch, SeaweedFS (Node)', async () => ({ store: fetchS3Store(s3) }));

describe('S3 adapter over fetch: failures', () => {
  it('is unready, and throws a StorageError on reads, when the server is unreachable', async () => {
    const down = fetchS3Store({ ...s3, endpoint: 'http://127.0.0.1:9', timeoutMs: 500 });
    expect(await down.ready()).toBe(false);
    await expect(down.get('images/x.png')).rejects.toBeInstanceOf(StorageError);
  });

  it('throws on a wrong secret instead of reporting a miss', async () => {
    const wrong = fetchS3Store({ ...s3, secretAccessKey: 'wrong' });
    await expect(wrong.get('images/x.png')).rejects.toThrow(/40[13]/);
  });
});
