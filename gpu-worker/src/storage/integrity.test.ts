// Integrity tags on a real S3-compatible server (SeaweedFS): what the worker writes carries its tag;
// an object overwritten without it is a miss, reported, and replaced by the next put.
import { randomBytes } from 'node:crypto';
import { INTEGRITY_METADATA, integrityMatches } from '@imf/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { startS3Server, type S3Server } from '../../../test/support/s3-server.js';
import { nodeS3Store } from '@imf/contract/storage/node';
import { withIntegrity } from './integrity.js';

const SECRET = 'worker-integrity-secret-0123456789';

let shared: Promise<S3Server> | undefined;
const server = () => (shared ??= startS3Server());
afterAll(async () => {
  await (await shared)?.stop();
});

async function stores() {
  const s = await server();
  const raw = nodeS3Store({ endpoint: s.endpoint, region: s.region, bucket: s.bucket, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, maxAttempts: 1 });
  const mismatches: { objectKey: string; tagged: boolean }[] = [];
  const tagged = withIntegrity(raw, SECRET, (objectKey, isTagged) => mismatches.push({ objectKey, tagged: isTagged }));
  return { raw, tagged, mismatches };
}

const image = (bytes: number[]) => ({ body: new Uint8Array(bytes), contentType: 'image/png', metadata: { model: 'm' } });

describe('integrity tags on stored objects (SeaweedFS)', () => {
  it('writes each object with the tag of its key and bytes, and reads it back', async () => {
    const { raw, tagged, mismatches } = await stores();
    const key = `images/integrity/${randomBytes(8).toString('hex')}.png`;
    expect(await tagged.putIfAbsent(key, image([1, 2, 3]))).toBe('created');
    const stored = await raw.get(key);
    expect(await integrityMatches(SECRET, key, stored!)).toBe(true);
    expect([...(await tagged.get(key))!.body]).toEqual([1, 2, 3]);
    expect(mismatches).toEqual([]);
  });

  it('treats an object overwritten without the tag as absent, and the next put replaces it', async () => {
    const { raw, tagged, mismatches } = await stores();
    const key = `images/integrity/${randomBytes(8).toString('hex')}.png`;
    await tagged.putIfAbsent(key, image([1, 2, 3]));
    await raw.replace(key, image([6, 6, 6])); // written around the worker: no tag
    expect(await tagged.get(key)).toBeUndefined();
    expect(mismatches).toEqual([{ objectKey: key, tagged: false }]);
    expect(await tagged.putIfAbsent(key, image([1, 2, 3]))).toBe('created');
    expect([...(await raw.get(key))!.body]).toEqual([1, 2, 3]);
    expect([...(await tagged.get(key))!.body]).toEqual([1, 2, 3]);
  });

  it('tags what it writes over an object, too (replace)', async () => {
    const { raw, tagged } = await stores();
    const key = `images/integrity/${randomBytes(8).toString('hex')}.png`;
    await raw.putIfAbsent(key, image([6, 6, 6]));
    await tagged.replace(key, image([1, 2, 3]));
    const stored = await raw.get(key);
    expect(await integrityMatches(SECRET, key, stored!)).toBe(true);
    expect([...(await tagged.get(key))!.body]).toEqual([1, 2, 3]);
  });

  it('does not take a tag copied from another object', async () => {
    const { raw, tagged, mismatches } = await stores();
    const a = `images/integrity/${randomBytes(8).toString('hex')}.png`;
    const b = `images/integrity/${randomBytes(8).toString('hex')}.png`;
    await tagged.putIfAbsent(a, image([1, 2, 3]));
    const copied = await raw.get(a);
    await raw.replace(b, { body: copied!.body, contentType: 'image/png', metadata: copied!.metadata });
    expect(await tagged.get(b)).toBeUndefined();
    expect(mismatches).toEqual([{ objectKey: b, tagged: true }]);
  });
});
