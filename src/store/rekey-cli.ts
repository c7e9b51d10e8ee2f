import { loadConfig, type Config } from '../config.js';
import { loadFieldCipher } from '../privacy/keys.js';
import { formatRekeyReport, openRedisRekey, openSqliteRekey, rekeyStores, type RekeyBackend } from './rekey.js';

/** The backend the configuration names, as openStores and the handoff store pick it: Redis when REDIS_URL is set, else the SQLite files. */
async function openBackend(config: Config): Promise<RekeyBackend | string> {
  if (config.REDIS_URL) return openRedisRekey(config.REDIS_URL, config.REDIS_PREFIX, config.REDIS_TIMEOUT_MS);
  // The handoff store keeps its SQLite files under HANDOFF_DATA_DIR whatever STORE says.
  const dataDir = config.STORE === 'memory' ? null : config.DATA_DIR;
  const where = dataDir === null ? config.HANDOFF_DATA_DIR : `${config.DATA_DIR} or ${config.HANDOFF_DATA_DIR}`;
  return openSqliteRekey(dataDir, config.HANDOFF_DATA_DIR) ?? `no database in ${where}: nothing to re-encrypt`;
}

/** `data rekey [--dry-run]`: re-seals every stored value under the current DATA_KEY and prints the counts; 1 when a value was unreadable. */
export async function dataRekey(args: string[], config: Config = loadConfig(), print: (line: string) => void = console.log): Promise<number> {
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length) throw new Error(`data rekey: unknown argument ${unknown[0]} (usage: data rekey [--dry-run])`);
  const dryRun = args.includes('--dry-run');
  const backend = await openBackend(config);
  if (typeof backend === 'string') return print(backend), 0;
  try {
    const cipher = loadFieldCipher({ dataKey: config.DATA_KEY, oldKeys: config.DATA_KEYS_OLD, nodeEnv: config.NODE_ENV, dataDir: config.DATA_DIR, warn: (m) => console.error(m) });
    const report = await rekeyStores(backend, cipher, { dryRun });
    print(`${backend.backend}: current key ${cipher.keyId}`);
    formatRekeyReport(report, dryRun).forEach((line) => print(line));
    return Object.values(report).some((r) => r.unreadable || r.busy) ? 1 : 0;
  } finally {
    await backend.close();
  }
}
