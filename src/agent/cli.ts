import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { openAgentDirectory } from '../handoff/index.js';

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

/** `agent add <login> --name <display name>`: stores the agent with a scrypt hash in Redis (REDIS_URL) or the embedded store. */
export async function addAgent(args: string[]): Promise<number> {
  const login = args[0]!.toLowerCase();
  const i = args.indexOf('--name');
  const name = i >= 0 ? args.slice(i + 1).join(' ').trim() : '';
  if (!name) {
    console.error('usage: agent add <login> --name <display name>');
    return 2;
  }
  const config = loadConfig();
  const backend = config.REDIS_URL ? ({ kind: 'redis', url: config.REDIS_URL, prefix: config.REDIS_PREFIX } as const) : ({ kind: 'sqlite', dir: config.HANDOFF_DATA_DIR } as const);
  const { agents, close } = await openAgentDirectory(backend, config.AGENT_SESSION_TTL_S);
  try {
    const agent = await agents.add(login, name, await readPassword());
    console.log(`agent ${agent.login} (${agent.name}) saved in ${backend.kind === 'redis' ? 'Redis' : backend.dir}`);
    return 0;
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  } finally {
    await close();
  }
}
