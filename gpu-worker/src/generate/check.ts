// What this worker refuses to generate: another model or version (409, the edge tries the next
// worker), or a request outside the model's limits or not in canonical form (400). The one
// definition of a valid request is the contract's parser; the keys of an accepted one are the
// contract's imageKey and objectKey, derived here and nowhere else in the worker.
import { canonicalPath, imageKey, objectKey, parseImageTarget, type ImageRequest, type ModelRegistry, type WorkerImageRequest } from '@imf/contract';
import { WorkerError } from '../errors.js';
import type { ServedModel } from './served-model.js';

/** An accepted request with the keys that name its image and its object in storage. */
export interface KeyedWork extends WorkerImageRequest {
  key: string;
  objectKey: string;
}

export interface CheckedWork {
  work: KeyedWork;
  served: ServedModel;
}

/** The served model for `body` and its keyed work, or the WorkerError that refuses it. */
export async function checkRequest(models: ReadonlyMap<string, ServedModel>, registry: ModelRegistry, body: WorkerImageRequest): Promise<CheckedWork> {
  const req = body.request;
  const served = models.get(req.model);
  if (!served) {
    throw new WorkerError('wrong-model', `this worker does not serve model "${req.model}" (it serves ${[...models.keys()].join(', ') || 'none'})`);
  }
  if (body.modelVersion !== served.manifest.version) {
    throw new WorkerError('wrong-model', `this worker serves ${req.model} version ${served.manifest.version}, not ${body.modelVersion}`);
  }
  // The request's own canonical URL must parse back to the very same request: the key is a hash of
  // that URL, so a request off its canonical form would be stored under another request's name.
  const parsed = parseImageTarget(registry, canonicalPath(req));
  if (!parsed.ok) throw new WorkerError('bad-request', parsed.issues.map((i) => i.detail).join('; '));
  const again = parsed.value.request;
  // Both ways: a field the parser fills in (a lossy format's quality) must be there too.
  const fields = new Set([...Object.keys(req), ...Object.keys(again)] as (keyof ImageRequest)[]);
  if ([...fields].some((field) => again[field] !== req[field])) {
    throw new WorkerError('bad-request', 'the request is not in canonical form (numbers must be quantised to 0.001; WebP and JPEG name their quality)');
  }
  const key = await imageKey(req, body.modelVersion);
  return { served, work: { ...body, key, objectKey: objectKey(req, body.modelVersion, key) } };
}
