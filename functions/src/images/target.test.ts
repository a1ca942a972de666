import { describe, expect, it } from 'vitest';
import { SIGNATURE_PARAMS } from '@imf/contract';
import { carriesSignature, requestTarget } from './target.js';

// The reference is WHATWG URL: the hot path must agree with it on every URL a runtime hands over.
const urls = [
  'http://127.0.0.1:8787/v1/images/imf-mnist/3.png?guidance=3&tmin=0&tmax=1&seed=42&size=112',
  'https://imf.example/v1/images/imf-mnist/3.png',
  'https://imf.example/v1/images/imf-mnist/3.png?',
  'https://imf.example/v1/images/imf-mnist/3.png?seed=1#frag',
  'https://imf.example/',
  'https://imf.example',
  'https://imf.example/v1/images/imf-mnist/3.png?seed=1&exp=9&kid=k&sig=abc',
  'https://imf.example/a?%65xp=1',
  'https://imf.example/a?e+xp=1',
  'https://imf.example/a?expires=1&kidney=2&signal=3',
  'https://imf.example/a?x=exp&y=sig',
  'https://imf.example/a?sig',
  'https://imf.example/a?seed=1&kid',
  'https://imf.example/a?seed=1&&exp=',
];

describe('request target', () => {
  it.each(urls)('agrees with WHATWG URL: %s', (raw) => {
    const url = new URL(raw);
    expect(requestTarget(url.href)).toBe(url.pathname + url.search);
    const signed = SIGNATURE_PARAMS.some((name) => url.searchParams.has(name));
    expect(carriesSignature(requestTarget(url.href))).toBe(signed);
  });
});
