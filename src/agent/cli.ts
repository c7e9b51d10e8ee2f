import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { openAgentDirectory, type AgentRole } from '../handoff/index.js';

/** Reads the password: hidden on a terminal (asked twice), one line from piped stdin. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  let muted = false;
  const output = new Writable({ write: (chunk, _enc, cb) => (muted ? cb() : process.stdout.write(chunk, cb)) });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      process.stdout.write(q);
      muted = true;
      rl.question('', (a) => {
        muted = false;
        process.stdout.write('\n');
        resolve(a);
      });
    });
  const first = await ask('password: ');
  const second = await ask('again: ');
  rl.close();
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

/** The role options of `agent add`: `--admin`, or `--role agent|admin`; the other arguments stay. */
export function roleOption(args: string[]): { role?: AgentRole; rest: string[] } | { error: string } {
  const rest = [...args];
  let role: AgentRole | undefined;
  for (let i = rest.indexOf('--admin'); i >= 0; i = rest.indexOf('--admin')) {
    rest.splice(i, 1);
    role = 'admin';
  }
  const r = rest.indexOf('--role');
  if (r >= 0) {
    const value = rest.splice(r, 2)[1];
    if (value !== 'agent' && value !== 'admin') return { error: 'role must be agent or admin' };
    if (role && role !== value) return { error: '--admin and --role agent contradict each other' };
    role = value;
  }
  return { ...(role ? { role } : {}), rest };
}

const USAGE = 'usage: agent add <login> [--admin | --role agent|admin] --name <display name>';

/**
 * `agent add <login> [--admin] --name <display name>`: stores the agent with a scrypt hash in Redis (REDIS_URL) or the
 * embedded store. A new agent is an `agent` unless `--admin`; an existing one keeps its role unless one is given.
 */
export async function addAgent(args: string[]): Promise<number> {
  const opt = roleOption(args);
  if ('error' in opt) {
    console.error(`${opt.error}\n${USAGE}`);
    return 2;
  }
  const login = (opt.rest[0] ?? '').toLowerCase();
  const i = opt.rest.indexOf('--name');
  const name = i >= 0 ? opt.rest.slice(i + 1).join(' ').trim() : '';
  if (!name || !login || login === '--name') {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const backend = config.REDIS_URL ? ({ kind: 'redis', url: config.REDIS_URL, prefix: config.REDIS_PREFIX } as const) : ({ kind: 'sqlite', dir: config.HANDOFF_DATA_DIR } as const);
  const { agents, close } = await openAgentDirectory(backend, config.AGENT_SESSION_TTL_S);
  try {
    const agent = await agents.add(login, name, await readPassword(), opt.role ? { role: opt.role } : {});
    console.log(`${agent.role} ${agent.login} (${agent.name}) saved in ${backend.kind === 'redis' ? 'Redis' : backend.dir}`);
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  } finally {
    await close();
  }
}
