// `npm run schema --workspace @imf/contract`: writes manifest.schema.json, the JSON Schema of the model
// manifest, from its zod definition (src/manifest.ts). A test fails while the committed file differs.
import { writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '../src/manifest.js';

const target = new URL('../manifest.schema.json', import.meta.url);
writeFileSync(target, JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
console.log(`wrote ${target.pathname}`);
