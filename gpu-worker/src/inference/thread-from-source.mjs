// Starts the inference thread from TypeScript sources (tests, `npm run dev`, the benchmark): loads
// tsx's hooks in this thread first. The built worker starts dist/…/thread.js directly instead.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
