// Where the tests find the repository's shared parts (models/, test/support/) from gpu-worker/.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const workerRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(workerRoot, '..');

export function repoPath(relative: string): string {
  return resolve(repoRoot, relative);
}
