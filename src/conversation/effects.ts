import { createHash } from 'node:crypto';
import type { Application } from '../core/index.js';
import { isoDay, type Effect } from '../dialogue/index.js';
import type { Stores } from '../store/index.js';
import type { AnyEffectHandler, EffectHandler, Turn } from './pipeline.js';

/**
 * One id per flow run, without engine support: the conversation, the flow, how many applications the conversation
 * had submitted before (so a second, identical run is a new one) and the run's answers, hashed.
 */
export function flowRunId(draft: Pick<Application, 'conversationId' | 'flowId' | 'answers'>, submittedBefore: number): string {
  const answers = Object.keys(draft.answers).sort().map((k) => [k, draft.answers[k]]);
  const basis = JSON.stringify([draft.conversationId, draft.flowId, submittedBefore, answers]);
  return `run-${createHash('sha256').update(basis).digest('base64url').slice(0, 32)}`;
}

/**
 * Reserves the reference number; the application itself is written by the turn's commit. Idempotent per flow run:
 * a run that already created an application (a turn retried without clientMessageId) gets that one back, same ref.
 */
export function createApplicationEffect(stores: Stores): EffectHandler<'create-application'> {
  return {
    type: 'create-application',
    async run(effect, turn) {
      const runId = flowRunId(effect.draft, turn.session?.dialogue.applications?.length ?? 0);
      const existing = await stores.applications.findByRun(runId);
      if (existing) {
        turn.log.info({ ref: existing.ref, flow: existing.flowId }, 'application of this flow run exists: reused');
        return { kind: 'application-created', application: existing };
      }
      const ref = await stores.applications.nextRef(isoDay(turn.now).replace(/-/g, ''));
      const application: Application = { ...effect.draft, ref, runId };
      turn.applications.push(application);
      turn.log.info({ ref, flow: application.flowId }, 'application submitted');
      return { kind: 'application-created', application };
    },
  };
}

/**
 * Looks an application up for a progress query; only the applicant's own mobile finds it. Wrong mobiles count
 * against the reference number (stores.attempts, as the HTTP lookup): once locked out, the right mobile gets the
 * same "not found" as a wrong one, so the chat is no oracle either.
 */
export function lookupApplicationEffect(stores: Stores): EffectHandler<'lookup-application'> {
  return {
    type: 'lookup-application',
    async run(effect) {
      const key = effect.ref.trim().toUpperCase();
      if (await stores.attempts.blocked(key)) return { kind: 'lookup-result', application: null };
      const app = await stores.applications.get(key);
      const found = app && app.mobile === effect.mobile ? app : null;
      await (found ? stores.attempts.reset(key) : stores.attempts.fail(key));
      return { kind: 'lookup-result', application: found };
    },
  };
}

/** The default handoff handler: records the request in the log (the handoff area replaces it with a queue). */
export function logHandoffEffect(): EffectHandler<'handoff'> {
  return {
    type: 'handoff',
    async run(effect, turn) {
      turn.log.info({ reason: effect.reason }, 'handoff requested');
      return null;
    },
  };
}

/** The default handlers, one per effect type. */
export function defaultEffects(stores: Stores): AnyEffectHandler[] {
  return [createApplicationEffect(stores), lookupApplicationEffect(stores), logHandoffEffect()];
}

/** Effect handlers by type; a later handler for the same type replaces an earlier one. */
export class EffectRegistry {
  private readonly byType = new Map<Effect['type'], AnyEffectHandler>();
  constructor(handlers: Iterable<AnyEffectHandler>) {
    for (const h of handlers) this.byType.set(h.type, h);
  }
  /** Runs the effect's handler; an effect nobody handles is logged and answered with nothing. */
  async run(effect: Effect, turn: Turn) {
    const handler = this.byType.get(effect.type) as EffectHandler | undefined;
    if (!handler) {
      turn.log.warn({ effect: effect.type }, 'no handler for effect');
      return null;
    }
    // The map is keyed by type, so the handler found takes this effect.
    return handler.run(effect as never, turn);
  }
}
