// The S3 adapter on Node, against a real SeaweedFS server over HTTP (started by the global setup).
import { describe, expect, inject, it } from 'vitest';
import { imageStoreContract } from './contract.js';
import { s3Store } from './s3.js';
import { s3ObjectWriter } from './test-objects.js';

const { s3 } = inject('edge');

imageStoreContract('S3 API on SeaweedFS (Node)', () => ({ store: s3Store(s3), write: s3ObjectWriter(s3) }));

describe('S3 adapter failures', () => {
  it('is unready, and throws on reads, when the server is unreachable', async () => {
    const down = s3Store({ ...s3, endpoint: 'http://127.0.0.1:9', timeoutMs: 500 });
    expect(await down.ready()).toBe(false);
    await expect(down.get('images/x.png')).rejects.toThrow();
  });

  it('throws on a wrong secret instead of reporting a miss', async () => {
    const wrong = s3Store({ ...s3, secretAccessKey: 'wrong' });
    await expect(wrong.get('images/x.png')).rejects.toThrow(/40[13]/);
  });
});
