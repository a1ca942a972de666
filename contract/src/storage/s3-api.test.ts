// Where S3 requests go: path-style for custom endpoints, virtual-hosted when asked, AWS itself without an endpoint.
import { describe, expect, it } from 'vitest';
import { s3Address, storedObject, putHeaders } from './s3-api.js';
import { IMMUTABLE_CACHE_CONTROL } from '../image-key.js';

const keys = { accessKeyId: 'id', secretAccessKey: 'secret' };

describe('S3 addresses', () => {
  it('puts the bucket in the path for a custom endpoint', () => {
    const address = s3Address({ ...keys, endpoint: 'http://127.0.0.1:8333', region: 'us-east-1', bucket: 'images' });
    expect([address.origin, address.host, address.bucketPath]).toEqual(['http://127.0.0.1:8333', '127.0.0.1:8333', '/images']);
    expect(address.objectPath('images/m/v/ab cd.png')).toBe('/images/images/m/v/ab%20cd.png');
  });

  it('puts the bucket in the host name when path-style is off', () => {
    const address = s3Address({ ...keys, endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1', bucket: 'images', forcePathStyle: false });
    expect([address.origin, address.host, address.bucketPath]).toEqual(['https://images.s3.eu-west-1.amazonaws.com', 'images.s3.eu-west-1.amazonaws.com', '/']);
    expect(address.objectPath('images/a.png')).toBe('/images/a.png');
  });

  it("addresses AWS S3 in the location's region when no endpoint is set", () => {
    expect(s3Address({ ...keys, region: 'eu-west-1', bucket: 'images', forcePathStyle: false }).origin).toBe('https://images.s3.eu-west-1.amazonaws.com');
  });
});

describe('S3 object headers', () => {
  it('writes metadata as x-amz-meta-* and reads it back from the same names', () => {
    const headers = putHeaders({ body: new Uint8Array(), contentType: 'image/png', metadata: { seed: '1' } }, true);
    expect(headers).toEqual({ 'content-type': 'image/png', 'cache-control': IMMUTABLE_CACHE_CONTROL, 'x-amz-meta-seed': '1', 'if-none-match': '*' });
    const object = storedObject(new Uint8Array([1]), Object.entries({ ...headers, etag: '"x"' }));
    expect(object).toEqual({ body: new Uint8Array([1]), contentType: 'image/png', cacheControl: IMMUTABLE_CACHE_CONTROL, metadata: { seed: '1' } });
  });
});
