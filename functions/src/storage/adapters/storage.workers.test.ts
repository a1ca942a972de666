// Inside workerd: the R2 binding (miniflare's local R2) and the S3 adapter over fetch against the
// real SeaweedFS server over HTTP, both passing the storage contract.
import { env } from 'cloudflare:test';
import { describeStorageContract } from '../../../../contract/src/testing/storage-contract.js';
import type { EdgeTestEnv } from '../../../test/support/env.js';
import { r2Store } from './r2.js';
import { fetchS3Store } from './s3.js';

const bindings = env as unknown as { IMAGES: R2Bucket; TEST_EDGE: string };
const { s3 } = JSON.parse(bindings.TEST_EDGE) as EdgeTestEnv;

describeStorageContract('R2 binding (workerd)', async () => ({ store: r2Store(bindings.IMAGES) }));
describeStorageContract('S3 over fetch + aws4fetch, SeaweedFS (workerd)', async () => ({ store: fetchS3Store(s3) }));
