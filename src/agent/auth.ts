import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import secureSession from '@fastify/secure-session';
import csrf from '@fastify/csrf-protection';
import { AppError } from '../core/index.js';
import type { Agent, HandoffService } from '../handoff/index.js';

declare module '@fastify/secure-session' {
  interface SessionData {
    sid: string;
    _csrf: string;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    agent?: Agent;
    agentSessionId?: string;
  }
}

/** Console session settings. */
export interface AuthOptions {
  handoff: HandoffService;
  /** At least 32 characters; when absent, a key is generated once and kept in the handoff store (shared by instances). */
  secret?: string;
  sessionTtlS: number;
  /** Send the cookie over HTTPS only. */
  secureCookie: boolean;
}

/** The session key: from the configured secret, or one generated once and shared through the store. */
async function sessionKey(opts: AuthOptions): Promise<Buffer> {
  if (opts.secret) return createHash('sha256').update(opts.secret).digest();
  return opts.handoff.agents.sharedKey();
}

/** Cookie `wsa_agent`: encrypted and signed (@fastify/secure-session), httpOnly, SameSite=Strict; CSRF tokens from its secret. */
export async function registerAuth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  await app.register(secureSession, {
    key: await sessionKey(opts),
    cookieName: 'wsa_agent',
    expiry: opts.sessionTtlS,
    cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: opts.secureCookie, maxAge: opts.sessionTtlS },
  });
  await app.register(csrf, { sessionPlugin: '@fastify/secure-session' });
}

/** preHandler: the logged-in agent, or 401; the session must still exist on the server (logout ends it). */
export function requireAgent(handoff: HandoffService) {
  return async (req: FastifyRequest): Promise<void> => {
    const sid = req.session.get('sid');
    const session = sid ? await handoff.agents.session(sid) : null;
    const agent = session ? await handoff.agents.get(session.login) : null;
    if (!session || !agent) throw new AppError('AGENT_LOGIN_REQUIRED');
    req.agent = agent;
    req.agentSessionId = session.id;
    await handoff.agents.touch(agent.login).catch(() => undefined);
  };
}

/** preHandler: the logged-in agent with the `admin` role; 401 without a session, 403 for an agent. */
export function requireAdmin(handoff: HandoffService) {
  const agent = requireAgent(handoff);
  return async (req: FastifyRequest): Promise<void> => {
    await agent(req);
    if (req.agent!.role !== 'admin') throw new AppError('ADMIN_REQUIRED');
  };
}

/** The console's guards, for routes registered inside its session scope (analytics, outbox admin). */
export interface ConsoleGuards {
  /** Any logged-in agent or admin. */
  agent: ReturnType<typeof requireAgent>;
  /** Admins only. */
  admin: ReturnType<typeof requireAdmin>;
  /** The CSRF token of the session, for state-changing calls. */
  csrf: ReturnType<typeof requireCsrf>;
}

/** Routes another area adds to the console (same cookie session and CSRF secret). */
export type ConsoleRoutes = (scope: FastifyInstance, guards: ConsoleGuards) => Promise<void>;

/** preHandler: a valid CSRF token (header `x-csrf-token`) on every state-changing call. */
export function requireCsrf(app: FastifyInstance) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const original = reply.send.bind(reply);
    // The plugin answers a bad token with reply.send(error); turn that into the catalogue's error.
    reply.send = ((payload: unknown) => {
      reply.send = original;
      if (payload instanceof Error) {
        done(new AppError('CSRF_INVALID'));
        return reply;
      }
      return original(payload);
    }) as typeof reply.send;
    app.csrfProtection(req, reply, (err?: Error) => {
      reply.send = original;
      done(err);
    });
  };
}
