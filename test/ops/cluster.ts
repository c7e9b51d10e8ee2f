import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

export { refused, startCluster, type Cluster } from '../../scripts/cluster-local.js';

/** `describe` when redis-server is installed; otherwise a visible skip (a failure under CI=true). */
export function clusterSuite(): typeof describe | typeof describe.skip {
  const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
  if (!hasRedis && process.env.CI !== 'true') console.warn('\n⚠ redis-server is not installed: skipping the cluster-local tests (set CI=true to fail instead).\n');
  return hasRedis || process.env.CI === 'true' ? describe : describe.skip;
}
