import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { clusterSuite } from '../ops/cluster.js';

const suite = clusterSuite();

suite('npm run bench:load', () => {
  it('a short run on the two-instance Redis cluster: agents answer handoffs, every message is accounted for, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsa-bench-load-'));
    const json = join(dir, 'load.json');
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts'], { env: { ...process.env, VITEST: '', BENCH_DURATION: '3', BENCH_WARMUP: '0', BENCH_USERS: '8', BENCH_JSON: json }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d));
      proc.stderr.on('data', (d: Buffer) => (out += d));
      const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain("0 messages lost (every message's sequence number accounted for)");
      const r = JSON.parse(readFileSync(json, 'utf8'));
      expect(r.audit).toMatchObject({ lost: 0, duplicated: 0, seqFaults: 0, unanswered: 0, agentLost: 0, replyMismatches: 0 });
      expect(r.audit.sent).toBeGreaterThan(20);
      expect(r.audit.stored).toBe(r.audit.sent);
      expect(r.counts.guide).toBeGreaterThan(0);
      // The handoffs went through the agents: claimed, answered, closed, and the users saw the rating prompt.
      expect(r.agentStats.replies).toBeGreaterThan(0);
      expect(r.audit.agentSent).toBeGreaterThanOrEqual(2 * r.agentStats.replies);
      expect(r.counts['handoff:agent'] ?? 0).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
