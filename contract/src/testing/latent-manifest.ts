// A latent model's manifest as the importer writes one (models/imf/export/import_official.py),
// shortened to three classes and with made-up hashes: for tests of the schema and of what the edge
// and the worker derive from a latent model without building one.
import { MANIFEST_FORMAT } from '../manifest.js';

const hash = (digit: string) => digit.repeat(64);
const scalar = (name: string, meaning: string) => ({ name, dtype: 'float32', shape: ['batch'], meaning });

export function latentManifestExample(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const content = hash('c');
  return {
    schema: MANIFEST_FORMAT,
    id: 'imf-tiny-rgb',
    version: content.slice(0, 16),
    content_sha256: content,
    method: 'improved MeanFlow, 1 network evaluation in latent space, then a VAE decoder',
    nfe: 1,
    image: { channels: 3, height: 64, width: 64, color: 'rgb' },
    graph: 'model.onnx',
    files: [
      { name: 'model.onnx', sha256: hash('a'), bytes: 1000 },
      { name: 'model.onnx.data', sha256: hash('b'), bytes: 4000 },
    ],
    inputs: [
      { name: 'noise', dtype: 'float32', shape: ['batch', 4, 8, 8], meaning: 'N(0, 1) noise' },
      { name: 'class', dtype: 'int64', shape: ['batch'], meaning: 'class index' },
      scalar('guidance', 'omega'),
      scalar('t_min', 'interval start'),
      scalar('t_max', 'interval end'),
    ],
    outputs: [{ name: 'image', dtype: 'uint8', shape: ['batch', 64, 64, 3], meaning: 'pixels', layout: 'NHWC' }],
    parameters: 924048,
    seconds_per_image: { seconds: 2.5, batch: 1, provider: 'CPUExecutionProvider', threads: 2, machine: 'test', measured: 'made up' },
    classes: ['tench', 'Golden Retriever', 'giant panda'],
    null_class: 3,
    guidance: { min: 1, max: 12, default: 8 },
    interval: { default: [0.4, 0.65] },
    noise: { generator: 'xoshiro128ss-boxmuller/1', seed: 'uint32', shape: [4, 8, 8], order: 'CHW', spec: 'models/noise/SPEC.md', test_vectors: 'models/noise/test-vectors.json' },
    reference: 'reference.json',
    source: { kind: 'random weights: a test fixture, NOT a trained model' },
  };
}
