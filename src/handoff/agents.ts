import { randomBytes } from 'node:crypto';
import { AppError } from '../core/index.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { Agent, AgentRole, AgentSession, AgentState, HandoffDb } from './types.js';

/** Seconds an agent counts as present after the console's last sign of life. */
const PRESENCE_S = 30;

/** A login name: letters, digits, dot, dash, underscore. */
export const LOGIN_PATTERN = /^[a-z0-9][a-z0-9._-]{1,31}$/;

/** Version of the stored agent record: 1 (no `v`) had no role; 2 adds `role`. */
export const AGENT_RECORD_VERSION = 2;

/** An agent as stored: any version so far. */
type StoredAgent = Omit<Agent, 'role'> & { v?: number; role?: AgentRole };

/** Reads a stored agent of any version as the current shape (a version-1 record is an `agent`). */
export function upgradeAgent(stored: StoredAgent): Agent {
  const { v: _v, role, ...rest } = stored;
  return { ...rest, role: role === 'admin' ? 'admin' : 'agent' };
}

/** The agent directory: accounts, server-side console sessions, presence. */
export class AgentDirectory {
  constructor(
    private readonly db: HandoffDb,
    private readonly sessionTtlS: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Adds an agent or replaces its name and password; the role stays unless given (a new agent is an `agent`). */
  async add(login: string, name: string, password: string, opts: { role?: AgentRole } = {}): Promise<Agent> {
    if (!LOGIN_PATTERN.test(login)) throw new AppError('BAD_REQUEST', '登录名应为 2-32 位小写字母、数字、点、横线或下划线');
    if (!name.trim() || name.length > 40) throw new AppError('BAD_REQUEST', '显示名应为 1-40 个字符');
    if (password.length < 8) throw new AppError('BAD_REQUEST', '密码至少 8 位');
    const old = await this.get(login);
    const role = opts.role ?? old?.role ?? 'agent';
    const agent: Agent = { login, name: name.trim(), passwordHash: await hashPassword(password), state: old?.state ?? 'online', role, createdAt: old?.createdAt ?? this.now().toISOString() };
    await this.save(agent);
    await this.db.index('agents', login, Date.parse(agent.createdAt));
    return agent;
  }

  async get(login: string): Promise<Agent | null> {
    const stored = LOGIN_PATTERN.test(login) ? await this.db.get<StoredAgent>('agent', login) : null;
    return stored ? upgradeAgent(stored) : null;
  }

  /** Writes the record at the current version. */
  private async save(agent: Agent): Promise<void> {
    await this.db.put('agent', agent.login, { v: AGENT_RECORD_VERSION, ...agent });
  }

  async list(): Promise<Agent[]> {
    const all = await Promise.all((await this.db.range('agents')).map((l) => this.get(l)));
    return all.filter((a): a is Agent => a !== null);
  }

  /** The agent when login and password match; null otherwise (same work either way). */
  async verify(login: string, password: string): Promise<Agent | null> {
    const agent = await this.get(login);
    const ok = await verifyPassword(password, agent?.passwordHash ?? DUMMY_HASH);
    return agent && ok ? agent : null;
  }

  async setState(login: string, state: AgentState): Promise<Agent> {
    return this.db.withLock(`agent:${login}`, async () => {
      const agent = await this.get(login);
      if (!agent) throw new AppError('AGENT_NOT_FOUND');
      const next = { ...agent, state };
      await this.save(next);
      return next;
    });
  }

  /** Opens a console session; the cookie carries only its id. */
  async openSession(login: string): Promise<AgentSession> {
    const session: AgentSession = { id: randomBytes(24).toString('base64url'), login, createdAt: this.now().toISOString() };
    await this.db.put('agent-session', session.id, session, this.sessionTtlS);
    return session;
  }

  async session(id: string): Promise<AgentSession | null> {
    return /^[\w-]{20,64}$/.test(id) ? this.db.get<AgentSession>('agent-session', id) : null;
  }

  /** Ends a session on the server: its cookie is worthless afterwards. */
  async endSession(id: string): Promise<void> {
    await this.db.del('agent-session', id);
  }

  /** A 32-byte key generated once and kept in the store, so every instance decrypts the same session cookies. */
  async sharedKey(): Promise<Buffer> {
    await this.db.putNew('console-key', 'current', randomBytes(32).toString('base64'));
    return Buffer.from((await this.db.get<string>('console-key', 'current'))!, 'base64');
  }

  /** The console is alive. */
  async touch(login: string): Promise<void> {
    await this.db.put('agent-online', login, { at: this.now().toISOString() }, PRESENCE_S);
  }

  async present(login: string): Promise<boolean> {
    return (await this.db.get('agent-online', login)) !== null;
  }

  /** Agents whose console is open and who are online or busy (busy ones still finish what they hold). */
  async available(): Promise<Agent[]> {
    const out: Agent[] = [];
    for (const a of await this.list()) if (a.state !== 'away' && (await this.present(a.login))) out.push(a);
    return out;
  }
}
