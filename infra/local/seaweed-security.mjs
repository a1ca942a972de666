// What closes SeaweedFS's own ports to everything but the stack's processes: gRPC mutual TLS with a
// certificate authority made at the first start (openssl; kept 0600 in the data folder, so a restart
// on the same folder trusts the same certificates) and JWT signing keys made at each start, all
// handed to `weed` as the WEED_* variables its security.toml settings map to.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The gRPC servers in one `weed server` process; each presents the certificate and dials with it. */
const GRPC_COMPONENTS = ['MASTER', 'VOLUME', 'FILER', 'S3', 'CLIENT', 'ADMIN', 'WORKER', 'MSG_BROKER', 'MQ'];

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The certificate authority and the one certificate SeaweedFS's components present to each other
 * (SeaweedFS checks the chain, not host names), made once in `dir` (0700, files 0600).
 */
export function grpcCertificates(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'weed.crt'), key: join(dir, 'weed.key') };
  if (!existsSync(files.ca) || !existsSync(files.cert) || !existsSync(files.key)) {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=imf-local-seaweedfs-ca'], dir);
    openssl(['req', ...ec, '-keyout', 'weed.key', '-out', 'weed.csr', '-subj', '/CN=imf-local-seaweedfs'], dir);
    openssl(['x509', '-req', '-in', 'weed.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'weed.crt', '-days', '3650'], dir);
  }
  for (const name of ['ca.key', 'ca.crt', 'weed.key', 'weed.crt', 'weed.csr', 'ca.srl']) {
    if (existsSync(join(dir, name))) chmodSync(join(dir, name), 0o600);
  }
  return files;
}

/** Signing keys for SeaweedFS's volume writes and reads and its filer's: fresh per start, known only to it and the caller. */
export function jwtKeys() {
  const key = () => randomBytes(32).toString('base64');
  return { volumeWrite: key(), volumeRead: key(), filerWrite: key(), filerRead: key() };
}

/** The WEED_* environment that turns on every check: JWTs on volume and filer HTTP, mutual TLS on gRPC. */
export function seaweedSecurityEnv(certificates, jwt) {
  const env = {
    WEED_JWT_SIGNING_KEY: jwt.volumeWrite,
    WEED_JWT_SIGNING_READ_KEY: jwt.volumeRead,
    WEED_JWT_FILER_SIGNING_KEY: jwt.filerWrite,
    WEED_JWT_FILER_SIGNING_READ_KEY: jwt.filerRead,
    WEED_GRPC_CA: certificates.ca,
  };
  for (const component of GRPC_COMPONENTS) {
    env[`WEED_GRPC_${component}_CERT`] = certificates.cert;
    env[`WEED_GRPC_${component}_KEY`] = certificates.key;
  }
  return env;
}
