// Manifest validation: each way a model folder can be wrong is refused with a reason that says
// what is wrong, and never stops the good folders beside it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsDir, type Manifest } from '../../test/support/model-folders.js';
import { discoverModels, type Discovery } from './discover.js';

type Case = [name: string, change: (m: Manifest) => void, reason: RegExp, onnx?: 'link' | 'altered' | 'none', raw?: string];

const cases: Case[] = [
  ['not-json', () => {}, /model\.json is not readable JSON/, 'link', '{ "id": '],
  ['no-classes', (m) => delete m.classes, /schema: classes/],
  ['other-schema', (m) => (m.schema = 'imf-model/1'), /schema: schema/],
  ['altered-onnx', () => {}, /sha256 of model\.onnx is [0-9a-f]{64} \(\d+ bytes\), the manifest says/, 'altered'],
  ['no-onnx', () => {}, /the file model\.onnx is missing/, 'none'],
  ['version-not-hash', (m) => (m.version = 'ffffffffffffffff'), /version: "ffffffffffffffff" is not the first 16 hex digits of content_sha256/],
  ['no-t-max', (m) => (m.inputs = m.inputs.filter((i: { name: string }) => i.name !== 't_max')), /inputs: the sampler's inputs are noise, class, guidance, t_min, t_max/],
  ['float-class', (m) => (m.inputs.find((i: { name: string }) => i.name === 'class').dtype = 'float32'), /inputs\.1\.dtype: .*"int64"/],
  ['wrong-noise-shape', (m) => (m.inputs.find((i: { name: string }) => i.name === 'noise').shape = ['batch', 3, 28, 28]), /inputs\.0\.shape: "noise" has shape \[batch,3,28,28\]/],
  ['no-image-output', (m) => (m.outputs = [{ name: 'x', dtype: 'uint8', shape: ['batch', 28, 28, 1], meaning: 'x', layout: 'NHWC' }]), /outputs\.0\.name: .*"image"/],
  ['other-noise', (m) => (m.noise.generator = 'philox/1'), /noise generator "philox\/1" is unknown/],
  ['escaping-graph', (m) => (m.graph = '../model.onnx'), /schema: graph: must be a plain \.onnx file name/],
  ['float-pixels', (m) => (m.outputs[0].dtype = 'float32'), /outputs\.0\.dtype: .*"uint8"/],
  ['bad-guidance', (m) => (m.guidance.default = 99), /guidance\.default: 99 is outside/],
  ['null-class-taken', (m) => (m.null_class = 3), /null_class: 3 collides with a class index/],
];

describe('model discovery', () => {
  const models = new ModelsDir();
  let discovery: Discovery;
  beforeAll(async () => {
    models.add('good');
    models.add('renamed', (m) => (m.id = 'someone-else'));
    for (const [name, change, , onnx, raw] of cases) models.add(name, change, onnx ?? 'link', raw);
    mkdirSync(join(models.path, 'not-a-model')); // no model.json: code, data, anything else
    discovery = await discoverModels(models.path);
  });
  afterAll(() => models.remove());

  it('serves the valid folder among the bad ones', () => {
    expect(discovery.models.map((m) => m.manifest.id)).toEqual(['good']);
  });

  it('ignores folders without a model.json', () => {
    expect(discovery.refused.map((r) => r.dir)).not.toContain(join(models.path, 'not-a-model'));
  });

  it('refuses a manifest whose id is not its folder name', () => {
    expect(discovery.refused.find((r) => r.dir.endsWith('/renamed'))?.reason).toMatch(/manifest id "someone-else" differs from its folder name "renamed"/);
  });

  it.each(cases.map(([name, , reason]) => [name, reason] as const))('refuses %s, saying why', (name, reason) => {
    const refused = discovery.refused.find((r) => r.dir === join(models.path, name));
    expect(refused, `${name} should be refused`).toBeDefined();
    expect(refused!.reason).toMatch(reason);
  });
});
