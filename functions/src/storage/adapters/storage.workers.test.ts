// Inside workerd: the R2 binding (miniflare's local R2) and the S3 adapter against the real
// SeaweedFS server over HTTP, both passing the storage contract.
import { env } from 'cloudflare:test';
import { imageStoreContract } from './contract.js';
import { r2Store } from './r2.js';
import { s3Store } from './s3.js';
import { r2ObjectWriter, s3ObjectWriter } from './test-objects.js';

const bindings = env as unknown as { IMAGES: R2Bucket; TEST_EDGE: string };
const { s3 } = JSON.parse(bindings.TEST_EDGE) as { s3: Parameters<typeof s3Store>[0] };

imageStoreContract('R2 binding (workerd)', () => ({ store: r2Store(bindings.IMAGES), write: r2ObjectWriter(bindings.IMAGES) }));
imageStoreContract('S3 API on SeaweedFS (workerd)', () => ({ store: s3Store(s3), write: s3ObjectWriter(s3) }));
