// The in-memory store passes the storage contract.
import { imageStoreContract } from './contract.js';
import { memoryStore } from './memory.js';

imageStoreContract('memory', () => {
  const store = memoryStore();
  return { store, write: async (key, image) => void store.objects.set(key, { body: image.body.slice(), contentType: image.contentType }) };
});
