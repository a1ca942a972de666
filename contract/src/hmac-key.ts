// HMAC-SHA256 keys for Web Crypto, imported once per secret: importKey costs more than the HMAC
// itself, and the secrets in use (a signing ring, an integrity key) are few.

const encoder = new TextEncoder();
const importedKeys = new Map<string, Promise<CryptoKey>>();

export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = importedKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    if (importedKeys.size > 64) importedKeys.clear();
    importedKeys.set(secret, key);
  }
  return key;
}
