// SeaweedFS's own admin tool, `weed shell`, as the stack's operator runs it (with the stack's gRPC
// certificate and JWT keys) or as anyone else on the machine would (without them). The security
// tests try its attacks; the storage-loss test breaks storage the way an operator's mistake would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// @ts-expect-error plain ESM without types
import { seaweedSecurityEnv } from '../../../infra/local/seaweed-security.mjs';
import type { TestStack } from './stack.js';

const weed = resolve(import.meta.dirname, '..', '..', '..', '.venv-s3', 'bin', 'weed');

/**
 * Runs `commands` in `weed shell` against the stack's master and filer; `credentials: false` runs
 * it with no security.toml and no WEED_* settings (an empty HOME, a neutral folder). Its output.
 */
export function weedShell(stack: TestStack, commands: string[], { credentials }: { credentials: boolean }): string {
  const { master, masterGrpc, filer, filerGrpc } = stack.storage.ports!;
  const home = mkdtempSync(join(tmpdir(), 'imf-weed-shell-'));
  try {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home };
    if (credentials) Object.assign(env, seaweedSecurityEnv(stack.storage.certificates, stack.storage.jwt));
    const run = spawnSync(weed, ['shell', `-master=127.0.0.1:${master}.${masterGrpc}`, `-filer=127.0.0.1:${filer}.${filerGrpc}`], {
      input: `${commands.join('\n')}\n`,
      env,
      cwd: home,
      // Without the certificate the shell keeps retrying its connection: its answer is silence.
      timeout: credentials ? 30_000 : 10_000,
      encoding: 'utf8',
    });
    return `${run.stdout}${run.stderr}`;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Deletes a collection (every volume of it) as the operator: the filer keeps its records of the objects. */
export function deleteCollection(stack: TestStack, collection: string): void {
  const out = weedShell(stack, ['lock', `collection.delete -collection=${collection} -apply`, 'unlock'], { credentials: true });
  if (!out.includes(`collection ${collection} is deleted`)) throw new Error(`collection.delete failed: ${out.slice(-500)}`);
}

/** The volume file ids (`<volume>,<needle>`) of a stored object's chunks, read as the operator. */
export function fileIds(stack: TestStack, objectKey: string): string[] {
  const out = weedShell(stack, [`fs.meta.cat /buckets/${stack.storage.bucket}/${objectKey}`], { credentials: true });
  return [...out.matchAll(/"fileId":\s*"([^"]+)"/g)].map((m) => m[1]!);
}
