// The model repository reader against real folders: the shipped models pass, a folder is judged on
// its own (schema, id against folder name, every file's hash), and one bad folder never hides the
// good ones beside it.
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../../testing/shipped-models.js';
import { readModelRepository, readServableModels, type ModelRepository } from './index.js';

describe('model repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imf-repository-'));
  const copy = (from: string, to: string, change?: (m: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    cpSync(join(shippedModelsDir, from), join(dir, to), { recursive: true });
    if (change) {
      const file = join(dir, to, 'model.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      change(manifest);
      writeFileSync(file, JSON.stringify(manifest));
    }
  };
  let served: ModelRepository;
  beforeAll(async () => {
    copy('imf-mnist', 'imf-mnist');
    copy('imf-mnist', 'renamed');
    copy('imf-mnist', 'no-classes', (m) => { m.id = 'no-classes'; delete m.classes; });
    copy('imf-mnist', 'altered', (m) => (m.id = 'altered'));
    appendFileSync(join(dir, 'altered', 'model.onnx'), Buffer.from([0]));
    mkdirSync(join(dir, 'not-a-model'));
    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'model.json'), '{ "id": ');
    served = await readServableModels(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every shipped model folder', () => {
    const shipped = readModelRepository(shippedModelsDir);
    expect(shipped.refused).toEqual([]);
    expect(shipped.models.map((m) => m.manifest.id)).toEqual(['imf-fashion', 'imf-mnist']);
    expect(shipped.models[0]!.graphPath).toBe(join(shippedModelsDir, 'imf-fashion', 'model.onnx'));
  });

  it('serves the valid folder among the bad ones, and ignores folders without a model.json', () => {
    expect(served.models.map((m) => m.manifest.id)).toEqual(['imf-mnist']);
    expect(served.refused.map((r) => r.dir.slice(dir.length + 1))).toEqual(['altered', 'broken', 'no-classes', 'renamed']);
  });

  it.each([
    ['altered', /^sha256 of model\.onnx is [0-9a-f]{64} \(\d+ bytes\), the manifest says/],
    ['broken', /^model\.json is not readable JSON/],
    ['no-classes', /^manifest does not match the schema: classes: classes is required/],
    ['renamed', /^manifest id "imf-mnist" differs from its folder name "renamed"/],
  ])('refuses %s, saying why', (name, reason) => {
    expect(served.refused.find((r) => r.dir === join(dir, name))?.reason).toMatch(reason);
  });

  it('reads manifests without hashing files where only the manifest is needed', () => {
    expect(readModelRepository(dir).models.map((m) => m.manifest.id)).toEqual(['altered', 'imf-mnist']);
  });
});
