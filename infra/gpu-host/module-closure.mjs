// The node_modules folders a GPU host needs to run `npm run gpu:check` and the worker from their
// sources: the worker's production dependencies, tsx (which runs the TypeScript), the root's sharp
// (the check decodes the images it gets back) and every package those load, found the way Node
// resolves them (the nearest node_modules up the tree). Prints one path per line, relative to the
// repository root. Optional dependencies count only where installed (esbuild's one platform binary).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What a package folder asks for at run time. */
function runtimeDependencies(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
}

/** The folder Node would load `name` from when required from `dir`, or null where none is installed. */
function locate(name, dir) {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (at === repoRoot || dirname(at) === at) return null;
  }
}

/** Every installed package reachable from the roots' dependencies, as folders under the repository. */
function moduleClosure(roots) {
  const found = new Set();
  const pending = roots.map(({ from, name }) => ({ from: join(repoRoot, from), name }));
  while (pending.length > 0) {
    const { from, name } = pending.pop();
    const dir = locate(name, from);
    if (!dir || found.has(dir)) continue;
    found.add(dir);
    for (const dep of runtimeDependencies(dir)) pending.push({ from: dir, name: dep });
  }
  return [...found].map((dir) => relative(repoRoot, dir)).sort();
}

const workerDependencies = runtimeDependencies(join(repoRoot, 'gpu-worker')).map((name) => ({ from: 'gpu-worker', name }));
const closure = moduleClosure([...workerDependencies, { from: '.', name: 'tsx' }, { from: '.', name: 'sharp' }]);
process.stdout.write(closure.join('\n') + '\n');
