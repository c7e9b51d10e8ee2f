import { AppError, maskValue, type Logger } from '../core/index.js';
import { isoDay } from '../dialogue/index.js';
import { CALLBACK_STATUSES, type CallbackStatus, type CallbackTicket, type HandoffDb } from './types.js';

/** Callback tickets: `CB<day>-<n>`, their statuses and who changed them. */
export class CallbackBook {
  constructor(
    private readonly cb: HandoffDb,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly changed: () => void,
  ) {}

  /** Creates a ticket (from a chat, or by an agent from a phone call). */
  async create(input: { mobile: string; slot: string; handoffId?: string; conversationId?: string; createdBy?: string; note?: string }): Promise<CallbackTicket> {
    const at = this.now();
    const day = isoDay(at).replace(/-/g, '');
    const n = await this.cb.incr('callback-seq', day, 3 * 86_400);
    const ticket: CallbackTicket = { id: `CB${day}-${String(n).padStart(4, '0')}`, ...input, status: 'open', createdAt: at.toISOString(), updatedAt: at.toISOString(), history: [{ status: 'open', ...(input.createdBy ? { agent: input.createdBy } : {}), at: at.toISOString() }] };
    await this.cb.put('callback', ticket.id, ticket);
    await this.cb.index('callbacks', ticket.id, at.getTime());
    this.logger.info({ ticket: ticket.id, handoffId: input.handoffId }, 'callback ticket created');
    this.changed();
    return ticket;
  }

  /** Every ticket, newest first, mobile masked. */
  async list(): Promise<(CallbackTicket & { mobileMasked: string })[]> {
    const ids = (await this.cb.range('callbacks')).reverse();
    const all = await Promise.all(ids.map((id) => this.cb.get<CallbackTicket>('callback', id)));
    return all.filter((c): c is CallbackTicket => c !== null).map(({ mobile, ...c }) => ({ ...c, mobile: maskValue(mobile, 3, 4), mobileMasked: maskValue(mobile, 3, 4) }));
  }

  /** Sets a ticket's status (called, resolved, not reachable). */
  async setStatus(id: string, status: CallbackStatus, login: string, note?: string): Promise<CallbackTicket> {
    if (!CALLBACK_STATUSES.includes(status)) throw new AppError('BAD_REQUEST');
    return this.cb.withLock(`callback:${id}`, async () => {
      const c = /^CB\d{8}-\d{4,}$/.test(id) ? await this.cb.get<CallbackTicket>('callback', id) : null;
      if (!c) throw new AppError('CALLBACK_NOT_FOUND');
      const at = this.now().toISOString();
      const next: CallbackTicket = { ...c, status, updatedAt: at, ...(note ? { note } : {}), history: [...c.history, { status, agent: login, at }] };
      await this.cb.put('callback', id, next);
      this.changed();
      return next;
    });
  }
}
