// Types of seaweedfs.mjs for the TypeScript that uses it (the tests' S3 server, benchmarks).
import type { Service } from './processes.mjs';

export interface SeaweedPorts {
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
  s3: number;
  s3Grpc: number;
}

export interface SeaweedOptions {
  repoRoot: string;
  /** Where its data lives. */
  dir: string;
  s3Port?: number;
  ports?: 'fixed' | 'free' | SeaweedPorts;
  bucket?: string;
  accessKeyId: string;
  secretAccessKey: string;
  log?: (line: string) => void;
  onSpawn?: (service: Service) => void;
  /** The environment of `weed` (default: this process's), to which the JWT keys and gRPC certificates are added. */
  env?: Record<string, string | undefined>;
}

/** The keys SeaweedFS signs and checks its own HTTP paths with (made at each start). */
export interface SeaweedJwtKeys {
  volumeWrite: string;
  volumeRead: string;
  filerWrite: string;
  filerRead: string;
}

export interface Seaweed {
  service: Service;
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  ports: SeaweedPorts;
  jwt: SeaweedJwtKeys;
  /** The gRPC certificate authority, and the certificate and key every component presents (0600, in `dir`/security). */
  certificates: { ca: string; cert: string; key: string };
}

export function weedBinary(repoRoot: string, env?: Record<string, string | undefined>): string;
export function startSeaweed(options: SeaweedOptions): Promise<Seaweed>;
