// The shared contract is written for Workers, where CryptoKey is a global type; on Node it is WebCrypto's.
type CryptoKey = import('node:crypto').webcrypto.CryptoKey;
