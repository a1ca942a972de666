// What this worker refuses to generate: another model or version (409, the edge tries the next
// worker), a request outside the model's limits or not in canonical form, or keys that are not the
// contract's keys for it (400). The one definition of a valid request is the contract's parser.
import { canonicalPath, imageKey, objectKey, parseImageTarget, type ImageRequest, type ModelRegistry, type WorkerImageRequest } from '@imf/contract';
import { WorkerError } from '../errors.js';
import type { ServedModel } from './served-model.js';

/** The served model `work` is for, or the WorkerError that refuses it. */
export async function checkRequest(models: ReadonlyMap<string, ServedModel>, registry: ModelRegistry, work: WorkerImageRequest): Promise<ServedModel> {
  const req = work.request;
  const served = models.get(req.model);
  if (!served) {
    throw new WorkerError('wrong-model', `this worker does not serve model "${req.model}" (it serves ${[...models.keys()].join(', ') || 'none'})`);
  }
  if (work.modelVersion !== served.manifest.version) {
    throw new WorkerError('wrong-model', `this worker serves ${req.model} version ${served.manifest.version}, not ${work.modelVersion}`);
  }
  // The request's own canonical URL must parse back to the very same request.
  const parsed = parseImageTarget(registry, canonicalPath(req));
  if (!parsed.ok) throw new WorkerError('bad-request', parsed.issues.map((i) => i.detail).join('; '));
  const again = parsed.value.request;
  if ((Object.keys(req) as (keyof ImageRequest)[]).some((field) => again[field] !== req[field])) {
    throw new WorkerError('bad-request', 'the request is not in canonical form (numbers must be quantised to 0.001)');
  }
  const key = await imageKey(req, work.modelVersion);
  if (work.key !== key) throw new WorkerError('bad-request', `key ${work.key} is not the image key of this request (${key})`);
  const expectedObjectKey = objectKey(req, work.modelVersion, key);
  if (work.objectKey !== expectedObjectKey) throw new WorkerError('bad-request', `objectKey must be ${expectedObjectKey}`);
  return served;
}
