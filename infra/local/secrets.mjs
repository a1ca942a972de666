// The stack's shared secrets, generated once and kept in the data folder so that signed URLs and
// the development API key stay valid across restarts. DEV_API_KEY from the environment wins.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function stackSecrets(dataDir, env = process.env) {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'secrets.json');
  let stored = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  if (!stored) {
    stored = {
      workerSecret: randomBytes(24).toString('hex'),
      signingKeys: `local:${randomBytes(32).toString('hex')}`,
      devApiKey: `dev_${randomBytes(18).toString('base64url')}`,
      s3AccessKeyId: 'local-stack',
      s3SecretAccessKey: randomBytes(24).toString('hex'),
    };
  }
  // Added since the first start of older data folders: the key of stored objects' integrity tags.
  if (!stored.storageIntegrityKey || !existsSync(file)) {
    stored.storageIntegrityKey ??= randomBytes(32).toString('hex');
    writeFileSync(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  // Readable by this user alone, also where an older start left it wider (the mode above applies to new files only).
  chmodSync(file, 0o600);
  const devApiKey = env.DEV_API_KEY || stored.devApiKey;
  return { ...stored, devApiKey, apiKeyHash: createHash('sha256').update(devApiKey, 'utf8').digest('hex') };
}
