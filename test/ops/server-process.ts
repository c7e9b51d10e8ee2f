import { spawn, type ChildProcess } from 'node:child_process';

/** A server running in a child process. */
export interface ServerProcess {
  url: string;
  /** The metrics listener's URL, when METRICS_PORT was set. */
  metricsUrl?: string;
  proc: ChildProcess;
  /** Every log line so far (JSON from pino, or plain text). */
  logs: string[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `node <args>` (default: src/main.ts through tsx) with the environment given; resolves when it listens. */
export function startServer(env: Record<string, string>, args: string[] = ['--import', 'tsx', 'src/main.ts'], timeoutMs = 60_000, cwd?: string): Promise<ServerProcess> {
  const proc = spawn(process.execPath, args, { cwd, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', VITEST: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    let metricsUrl: string | undefined;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      logs.push(line);
      const m = /metrics listening on (http:\/\/[\d.]+:\d+)/.exec(line);
      if (m) metricsUrl = m[1];
      const a = /assistant listening on (http:\/\/[\d.]+:\d+)/.exec(line);
      if (a) {
        clearTimeout(timer);
        resolve({ url: a[1]!, metricsUrl, proc, logs, exited, stop: (signal = 'SIGTERM') => (proc.exitCode !== null || proc.signalCode ? exited : (proc.kill(signal), exited)) });
      }
    };
    let buf = '';
    const feed = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    proc.stdout!.on('data', feed);
    proc.stderr!.on('data', feed);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${logs.join('\n')}`));
    });
  });
}
