import type { Application } from '../core/index.js';
import { isoDay, type Effect } from '../dialogue/index.js';
import type { Stores } from '../store/index.js';
import type { AnyEffectHandler, EffectHandler, Turn } from './pipeline.js';

/** Reserves the reference number; the application itself is written by the turn's commit. */
export function createApplicationEffect(stores: Stores): EffectHandler<'create-application'> {
  return {
    type: 'create-application',
    async run(effect, turn) {
      const ref = await stores.applications.nextRef(isoDay(turn.now).replace(/-/g, ''));
      const application: Application = { ref, ...effect.draft };
      turn.applications.push(application);
      turn.log.info({ ref, flow: application.flowId }, 'application submitted');
      return { kind: 'application-created', application };
    },
  };
}

/** Looks an application up for a progress query; only the applicant's own mobile finds it. */
export function lookupApplicationEffect(stores: Stores): EffectHandler<'lookup-application'> {
  return {
    type: 'lookup-application',
    async run(effect) {
      const app = await stores.applications.get(effect.ref);
      return { kind: 'lookup-result', application: app && app.mobile === effect.mobile ? app : null };
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
