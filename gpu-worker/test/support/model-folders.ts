// Model folders made for a test: copies of the shipped manifest, changed one way each, next to the
// real ONNX file (linked, or copied and altered), in a temporary MODELS_DIR.
import { createHash } from 'node:crypto';
import { copyFileSync, appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../paths.js';

export const SHIPPED = repoPath('models/imf-mnist');
export type Manifest = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function shippedManifest(): Manifest {
  return JSON.parse(readFileSync(join(SHIPPED, 'model.json'), 'utf8')) as Manifest;
}

export class ModelsDir {
  readonly path = mkdtempSync(join(tmpdir(), 'imf-models-'));

  /** A folder `name` whose manifest is the shipped one (id = name) after `change`. */
  add(name: string, change: (m: Manifest) => void = () => {}, onnx: 'link' | 'altered' | 'none' = 'link', raw?: string): string {
    const dir = join(this.path, name);
    mkdirSync(dir);
    const manifest = shippedManifest();
    manifest.id = name;
    change(manifest);
    writeFileSync(join(dir, 'model.json'), raw ?? JSON.stringify(manifest, null, 2));
    if (onnx === 'link') symlinkSync(join(SHIPPED, 'model.onnx'), join(dir, 'model.onnx'));
    if (onnx === 'altered') {
      copyFileSync(join(SHIPPED, 'model.onnx'), join(dir, 'model.onnx'));
      appendFileSync(join(dir, 'model.onnx'), Buffer.from([0]));
    }
    return dir;
  }

  /**
   * A folder whose ONNX file is the shipped one with `from` replaced by `to` (same length, so the
   * protobuf stays valid) and whose manifest carries the new file's true sha256, content hash and version.
   */
  addRenamed(name: string, from: string, to: string): string {
    if (from.length !== to.length) throw new Error('the replacement must keep the length');
    const bytes = readFileSync(join(SHIPPED, 'model.onnx'));
    const patched = Buffer.from(bytes.toString('latin1').replaceAll(from, to), 'latin1');
    const sha256 = createHash('sha256').update(patched).digest('hex');
    const dir = this.add(name, (m) => Object.assign(m, { files: [{ ...m.files[0], sha256, bytes: patched.length }], content_sha256: sha256, version: sha256.slice(0, 16) }), 'none');
    writeFileSync(join(dir, 'model.onnx'), patched);
    return dir;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
