// The in-memory store passes the storage contract.
import { describeStorageContract } from '../testing/storage-contract.js';
import { memoryStore } from './memory.js';

describeStorageContract('memory', async () => ({ store: memoryStore() }));
