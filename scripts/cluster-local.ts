/**
 * Starts scripts/cluster-local.sh from a program (tests, bench:load) on free ports and waits until it says it is
 * ready; `stop()` sends SIGTERM, and the script stops the instances, the proxy and Redis in that order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/** scripts/cluster-local.sh, running. */
export interface Cluster {
  /** The proxy's URL; with `CLUSTER_PROXY=false`, instance 1's. */
  url: string;
  /** The two instances' own URLs. */
  instances: [string, string];
  /** Proxy (instance 1 without a proxy), instance 1, instance 2, Redis. */
  ports: number[];
  redisUrl: string;
  pids: { app1: number; app2: number };
  proc: ChildProcess;
  /** Everything the script printed so far. */
  output(): string;
  /** SIGTERM to the script (it stops everything) and its exit. */
  stop(): Promise<number | null>;
}

/** True when nothing listens on the port any more. */
export const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

/** Starts the cluster on free ports (variables in `env` pass to the script and both instances) and resolves when it is ready. */
export async function startCluster(env: Record<string, string> = {}, timeoutMs = 90_000): Promise<Cluster> {
  const proc = spawn('bash', ['scripts/cluster-local.sh'], { env: { ...process.env, PROXY_PORT: '0', APP1_PORT: '0', APP2_PORT: '0', REDIS_PORT: '0', LOG_LEVEL: 'warn', VITEST: '', KNOWLEDGE_WATCH: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster did not start:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString('utf8');
      const r = /cluster ready: (http:\/\/[\d.]+:\d+) \(instances on (\d+) and (\d+), redis on (\d+)\)\ncluster pids: app1=(\d+) app2=(\d+)/.exec(out);
      if (r) (clearTimeout(timer), resolve(r));
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`cluster exited:\n${out}`)));
  });
  const [, url, p1, p2, pr, a1, a2] = m;
  return {
    url: url!,
    instances: [`http://127.0.0.1:${p1}`, `http://127.0.0.1:${p2}`],
    ports: [Number(new URL(url!).port), Number(p1), Number(p2), Number(pr)],
    redisUrl: `redis://127.0.0.1:${pr}`,
    pids: { app1: Number(a1), app2: Number(a2) },
    proc,
    output: () => out,
    stop: () => (proc.exitCode !== null ? exited : (proc.kill('SIGTERM'), exited)),
  };
}
