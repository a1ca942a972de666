// In-process token buckets pass the rate-limiter contract.
import { rateLimiterContract } from './contract.js';
import { memoryRateLimiter } from './memory.js';

rateLimiterContract('in-process', () => memoryRateLimiter());
