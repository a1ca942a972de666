// The filesystem store against the storage contract, on a real temporary folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesystemStore } from '@imf/contract/storage/node';
import { describe, expect, it } from 'vitest';
import { describeStorageContract } from '../../../contract/src/testing/storage-contract.js';
import { asWorkerError } from '../errors.js';

describeStorageContract('filesystem', async () => {
  const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
  return { store: filesystemStore(root), stop: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('filesystem store', () => {
  it('leaves no temporary files behind after writes and replacements', async () => {
    const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
    const store = filesystemStore(root);
    const key = 'images/m/v/abc.png';
    await store.putIfAbsent(key, { body: new Uint8Array([1, 2, 3]), contentType: 'image/png', metadata: {} });
    await store.putIfAbsent(key, { body: new Uint8Array([4]), contentType: 'image/png', metadata: {} });
    await store.replace(key, { body: new Uint8Array([5]), contentType: 'image/png', metadata: {} });
    expect(readdirSync(join(root, 'images/m/v')).sort()).toEqual(['abc.png', 'abc.png.meta.json']);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a key that would leave its root, as a bad request', async () => {
    const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
    const store = filesystemStore(root);
    const failure = await store.get('../outside.png').catch((error: unknown) => error);
    expect(asWorkerError(failure).kind).toBe('bad-request');
    rmSync(root, { recursive: true, force: true });
  });
});
