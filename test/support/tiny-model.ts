// A tiny latent model for tests: random weights of the official iMF architecture and a tiny VAE
// decoder (64×64 RGB, 1000 ImageNet classes, ~4 MB), built by the importer into a folder of the
// test's own (`npm run model:import -- --tiny`, a few seconds). Never a model to serve.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '@imf/contract';
import type { ReferenceRequest } from './reference.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TinyModel {
  dir: string;
  manifest: ModelManifest;
  reference: { model_version: string; pixels: { shape: number[] }; requests: ReferenceRequest[] };
}

/**
 * Imports a tiny random-weight model into `modelsDir/id` and reads back its manifest and reference.
 * `importArgs` go to the importer as well (`['--precision', 'fp16']`).
 */
export function buildTinyModel(modelsDir: string, id = 'imf-tiny-rgb', importArgs: string[] = []): TinyModel {
  const dir = join(modelsDir, id);
  const python = join(repoRoot, '.venv', 'bin', 'python');
  const result = spawnSync(python, ['-m', 'imf.export.import_official', '--tiny', '--out', dir, '--threads', '1', '--quiet', '--grid-classes', '207', '--grid-seeds', '0', ...importArgs], {
    cwd: join(repoRoot, 'models'),
    env: { ...process.env, PYTHONPATH: '.' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`building the tiny model failed (${result.status}): ${result.stderr || result.error?.message}`);
  return {
    dir,
    manifest: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest,
    reference: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')),
  };
}

/** Pixels that may differ by one between ONNX Runtime and PyTorch: the importer's own tolerance, 0.1% of the values. */
export function offByOneAllowed(values: number): number {
  return Math.floor(values / 1000);
}
