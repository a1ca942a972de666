// The shipped models' reference images (models/<id>/reference.json: requests and the 8-bit pixels
// the PyTorch sampler made for them) and the one rule for "the same image", used by the worker's
// tests and the end-to-end tests alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '@imf/contract';
import { readModelFolder, readModelRepository, type ModelFolder } from '@imf/contract/models/node';

const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

export interface ReferenceRequest {
  seed: number;
  class: number;
  guidance: number;
  t_min: number;
  t_max: number;
  pixels_base64: string;
}

export interface ShippedModel {
  manifest: ModelManifest;
  reference?: { model_version: string; requests: ReferenceRequest[] };
}

/** A model folder read by the contract's reader, with its reference.json if it has one. */
function withReference({ dir, manifest }: ModelFolder): ShippedModel {
  const referencePath = join(dir, 'reference.json');
  const reference = existsSync(referencePath) ? JSON.parse(readFileSync(referencePath, 'utf8')) : undefined;
  return { manifest, reference };
}

/** One shipped model folder: its manifest and, if it has one, its reference.json. */
export function shippedModel(id = 'imf-mnist'): ShippedModel {
  const folder = readModelFolder(join(modelsDir, id));
  if (!('manifest' in folder)) throw new Error(`models/${id}: ${folder.reason}`);
  return withReference(folder);
}

/** Every shipped model that has reference images. */
export function shippedModelsWithReferences(): Required<ShippedModel>[] {
  return readModelRepository(modelsDir)
    .models.map(withReference)
    .filter((m): m is Required<ShippedModel> => m.reference !== undefined);
}

/**
 * PyTorch and ONNX Runtime may round a float differently in the last bits, which moves a pixel
 * sitting on a rounding boundary by one level. Any pixel off by more, or more than this many pixels
 * off by one in one image, is a real mismatch.
 */
export const MAX_PIXELS_OFF_BY_ONE = 3;

/** How far served pixels are from the reference: the largest difference and how many pixels differ. */
export function comparePixels(actual: Uint8Array, reference: ReferenceRequest): { maxDiff: number; differing: number } {
  const expected = Buffer.from(reference.pixels_base64, 'base64');
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d > 0) differing++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { maxDiff, differing };
}
