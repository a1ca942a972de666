// The filesystem adapter against the ImageStore contract, on a real temporary folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeImageStoreContract } from './contract.js';
import { filesystemStore } from './filesystem.js';

describeImageStoreContract('filesystem', async () => {
  const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
  return { store: filesystemStore(root), stop: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('filesystem store', () => {
  it('leaves no temporary files behind after writes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
    const store = filesystemStore(root);
    const key = 'images/m/v/abc.png';
    await store.putIfAbsent(key, { body: new Uint8Array([1, 2, 3]), contentType: 'image/png', metadata: {} });
    await store.putIfAbsent(key, { body: new Uint8Array([4]), contentType: 'image/png', metadata: {} });
    expect(readdirSync(join(root, 'images/m/v')).sort()).toEqual(['abc.png', 'abc.png.meta.json']);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a key that would leave its root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'imf-store-'));
    const store = filesystemStore(root);
    await expect(store.get('../outside.png')).rejects.toMatchObject({ kind: 'bad-request' });
    rmSync(root, { recursive: true, force: true });
  });
});
