// The worker's configuration, from environment variables only (README.md lists each one). Every
// value is checked at start; all problems are reported together, one line each, before anything runs.
import { resolve } from 'node:path';
import type { NodeS3Options } from '@imf/contract/storage/node';
import type { ExecutionProviderChoice } from '../inference/inference-thread.js';

export type StorageConfig = { kind: 'filesystem'; dir: string } | ({ kind: 's3' } & NodeS3Options);

export interface WorkerConfig {
  port: number;
  host: string;
  modelsDir: string;
  maxBatchSize: number;
  maxBatchDelayMs: number;
  maxQueue: number;
  requestTimeoutMs: number;
  shedAfterMs: number;
  workerSecret: string;
  storage: StorageConfig;
  /** STORAGE_INTEGRITY_KEY, shared with the edge: objects are written with its tag and read only with it. */
  integrityKey: string | undefined;
  intraOpThreads: number;
  interOpThreads: number;
  executionProvider: ExecutionProviderChoice;
  /** The GPU the CUDA provider runs on (CUDA_DEVICE_ID, default 0). */
  cudaDeviceId: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  maxBodyBytes: number;
  /** XMP_PARAMETERS: whether each image's XMP holds its generation parameters (the source type and model version always do). */
  xmpParameters: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const MIN_SECRET_LENGTH = 16;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Record<string, string | undefined>;

export function readConfig(env: Env = process.env): WorkerConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const number = (name: string, fallback: number, min: number, max: number, integer = true): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+(\.\d+)?$/.test(raw) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  const workerSecret = text('WORKER_SECRET') ?? '';
  if (workerSecret === '') problems.push('WORKER_SECRET is required: the shared secret the edge sends in x-imf-worker-secret');
  else if (workerSecret.length < MIN_SECRET_LENGTH) problems.push(`WORKER_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);

  let storage: StorageConfig;
  const endpoint = text('S3_ENDPOINT');
  const bucket = text('S3_BUCKET');
  if (endpoint !== undefined || bucket !== undefined) {
    if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) problems.push(`S3_ENDPOINT must be an http(s) URL, got "${endpoint}"`);
    if (bucket === undefined) problems.push('S3_BUCKET is required when S3_ENDPOINT is set');
    const ownKeys = text('S3_ACCESS_KEY_ID') !== undefined || text('S3_SECRET_ACCESS_KEY') !== undefined;
    // S3_* first; without them the variables AWS's own tools read (AWS_ACCESS_KEY_ID, …).
    const accessKeyId = ownKeys ? text('S3_ACCESS_KEY_ID') : text('AWS_ACCESS_KEY_ID');
    const secretAccessKey = ownKeys ? text('S3_SECRET_ACCESS_KEY') : text('AWS_SECRET_ACCESS_KEY');
    if (ownKeys && (accessKeyId === undefined || secretAccessKey === undefined)) problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
    else if (accessKeyId === undefined || secretAccessKey === undefined) problems.push('S3 storage needs credentials: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
    const sessionToken = ownKeys ? undefined : text('AWS_SESSION_TOKEN');
    storage = {
      kind: 's3',
      endpoint,
      region: text('S3_REGION') ?? 'us-east-1',
      bucket: bucket ?? '',
      forcePathStyle: flag('S3_FORCE_PATH_STYLE', true),
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey ?? '',
      ...(sessionToken ? { sessionToken } : {}),
      conditionalPut: flag('S3_CONDITIONAL_PUT', true),
      timeoutMs: number('S3_TIMEOUT_MS', 5000, 1, 600_000),
      maxAttempts: number('S3_MAX_ATTEMPTS', 3, 1, 10),
    };
  } else {
    storage = { kind: 'filesystem', dir: resolve(text('STORAGE_DIR') ?? 'data/images') };
  }

  const config: WorkerConfig = {
    port: number('PORT', 8080, 0, 65535),
    host: text('HOST') ?? '0.0.0.0',
    modelsDir: resolve(text('MODELS_DIR') ?? 'models'),
    maxBatchSize: number('MAX_BATCH_SIZE', 16, 1, 1024),
    maxBatchDelayMs: number('MAX_BATCH_DELAY_MS', 2, 0, 10_000, false),
    maxQueue: number('MAX_QUEUE', 256, 1, 1_000_000),
    // Both plus each model's allowance (a few times its seconds per image, from its manifest), and
    // under the edge's pool deadline (POOL_DEADLINE_MS, 15 s, plus the same allowance): a worker
    // that is behind says so with a 503 well before the edge gives up on it with a 504.
    requestTimeoutMs: number('REQUEST_TIMEOUT_MS', 10_000, 1, 600_000),
    shedAfterMs: number('SHED_AFTER_MS', 5_000, 1, 600_000),
    workerSecret,
    storage,
    integrityKey: text('STORAGE_INTEGRITY_KEY') || undefined,
    intraOpThreads: number('INTRA_OP_THREADS', 1, 0, 1024),
    interOpThreads: number('INTER_OP_THREADS', 1, 0, 1024),
    executionProvider: oneOf<ExecutionProviderChoice>('EXECUTION_PROVIDER', 'auto', ['auto', 'cuda', 'cpu']),
    // One worker per GPU: the index among the GPUs this process sees (NVIDIA_VISIBLE_DEVICES may
    // already narrow them to one, which is then 0).
    cudaDeviceId: number('CUDA_DEVICE_ID', 0, 0, 1024),
    logLevel: oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    shutdownTimeoutMs: number('SHUTDOWN_TIMEOUT_MS', 30_000, 0, 3_600_000),
    maxBodyBytes: number('MAX_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    xmpParameters: flag('XMP_PARAMETERS', true),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
