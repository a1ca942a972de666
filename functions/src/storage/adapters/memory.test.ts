// The in-memory store passes the storage contract.
import { imageStoreContract } from './contract.js';
import { memoryStore } from './memory.js';

imageStoreContract('memory', () => memoryStore());
