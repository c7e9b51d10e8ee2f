import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Application } from '../../src/core/index.js';
import { AppError } from '../../src/core/index.js';
import type { AnalyticsEvent, CommitPoint, NewMessage, OutboxEntry, SessionRecord, StoreOptions, Stores, TurnCommit } from '../../src/store/index.js';

/** Makes fresh stores; overrides (a short TTL or lock timeout) apply on top of the suite's own options. */
export type StoresFactory = (overrides?: StoreOptions) => Promise<Stores>;

/** What a durable backend offers the contract: stores plus a way to open the same data again after closing them. */
export type DurableFactory = () => Promise<{ stores: Stores; reopen: () => Promise<Stores> }>;

const POINTS: CommitPoint[] = ['applications', 'session', 'transcript', 'turn', 'committed'];

/** A fresh id so tests never see each other's data, even on a shared Redis prefix. */
function uid(label: string): string {
  return `${label}-${randomUUID()}`;
}

function message(text: string, from: NewMessage['from'] = 'user'): NewMessage {
  return { text, from, at: new Date().toISOString() };
}

function record(state: Record<string, unknown>): SessionRecord<Record<string, unknown>> {
  return { schemaVersion: 1, state, updatedAt: new Date().toISOString() };
}

function application(ref: string): Application {
  return {
    ref,
    flowId: 'water-new-connection',
    title: '用水报装',
    conversationId: uid('conv'),
    answers: { name: '张三', mobile: '13800138000', floors: 3, urgent: false },
    fields: [{ label: '手机号', value: '138****8000' }],
    items: ['water-install'],
    checklist: [{ name: '身份证', requirement: '必备', commitment: false, items: ['water-install'] }],
    mobile: '13800138000',
    status: 'submitted',
    submittedAt: '2026-11-28T08:00:00.000Z',
    dueDate: '2026-12-05',
    timeLimit: { value: 5, unit: '工作日' },
    nextSteps: ['等待现场勘查'],
  };
}

function commitOf(id: string, apps: Application[], cmid?: string, step = 1, outbox?: OutboxEntry[]): TurnCommit {
  return {
    conversationId: id,
    session: record({ step }),
    messages: [message(`用户第${step}条`), message(`回复第${step}条`, 'bot')],
    applications: apps,
    ...(cmid ? { clientMessageId: cmid } : {}),
    ...(outbox ? { outbox } : {}),
  };
}

function entry(id: string, kind: OutboxEntry['kind'] = 'application'): OutboxEntry {
  return { id, kind, payload: { ref: id, note: '附言' }, createdAt: new Date().toISOString() };
}

/** Runs every store behaviour the app relies on against one backend; `durable` adds the restart cases. */
export function storeContract(name: string, make: StoresFactory, durable?: DurableFactory): void {
  describe(`${name} stores contract`, () => {
    let stores: Stores;
    const extra: Stores[] = [];
    async function makeExtra(overrides: StoreOptions): Promise<Stores> {
      const s = await make(overrides);
      extra.push(s);
      return s;
    }
    beforeEach(async () => {
      stores = await make();
    });
    afterEach(async () => {
      await Promise.all([stores, ...extra.splice(0)].map((s) => s.close()));
    });

    describe('sessions', () => {
      it('round-trips get/set/delete and keeps ids apart', async () => {
        const a = uid('a');
        const b = uid('b');
        expect(await stores.sessions.get(a)).toBeNull();
        await stores.sessions.set(a, record({ step: 1 }));
        await stores.sessions.set(b, record({ step: 2 }));
        expect((await stores.sessions.get<{ step: number }>(a))?.state).toEqual({ step: 1 });
        expect((await stores.sessions.get<{ step: number }>(b))?.state).toEqual({ step: 2 });
        await stores.sessions.set(a, record({ step: 3 }));
        expect((await stores.sessions.get<{ step: number }>(a))?.state).toEqual({ step: 3 });
        await stores.sessions.delete(a);
        expect(await stores.sessions.get(a)).toBeNull();
        expect((await stores.sessions.get<{ step: number }>(b))?.state).toEqual({ step: 2 });
      });

      it('does not let callers mutate the stored value', async () => {
        const id = uid('s');
        const rec = record({ slots: { name: '张三' } });
        await stores.sessions.set(id, rec);
        (rec.state.slots as Record<string, string>).name = '李四';
        const read = await stores.sessions.get<{ slots: Record<string, string> }>(id);
        expect(read?.state.slots.name).toBe('张三');
        read!.state.slots.name = '王五';
        expect((await stores.sessions.get<{ slots: Record<string, string> }>(id))?.state.slots.name).toBe('张三');
      });

      it('expires sessions and transcripts after the TTL', async () => {
        const short = await makeExtra({ ttlSeconds: 1 });
        const id = uid('ttl');
        await short.sessions.set(id, record({ step: 1 }));
        await short.transcripts.append(id, [message('hi')]);
        expect(await short.sessions.get(id)).not.toBeNull();
        await sleep(1_300);
        expect(await short.sessions.get(id)).toBeNull();
        expect(await short.transcripts.list(id)).toEqual([]);
      });
    });

    describe('transcripts', () => {
      it('numbers messages from 1 and lists after a seq', async () => {
        const id = uid('t');
        const first = await stores.transcripts.append(id, [message('你好'), message('您好，请问办理什么业务？', 'bot')]);
        expect(first.map((m) => m.seq)).toEqual([1, 2]);
        expect(first[1]).toMatchObject({ seq: 2, from: 'bot', text: '您好，请问办理什么业务？' });
        const second = await stores.transcripts.append(id, [message('报装')]);
        expect(second.map((m) => m.seq)).toEqual([3]);
        expect((await stores.transcripts.list(id)).map((m) => m.text)).toEqual(['你好', '您好，请问办理什么业务？', '报装']);
        expect((await stores.transcripts.list(id, 2)).map((m) => m.seq)).toEqual([3]);
        expect(await stores.transcripts.list(id, 3)).toEqual([]);
        expect(await stores.transcripts.list(uid('none'))).toEqual([]);
      });

      it('keeps quick replies and cards intact', async () => {
        const id = uid('t');
        const rich: NewMessage = {
          ...message('请选择', 'bot'),
          quickReplies: [{ title: '是', postback: 'yes' }],
          card: { type: 'handoff', reason: 'user asked' },
        };
        await stores.transcripts.append(id, [rich]);
        expect(await stores.transcripts.list(id)).toEqual([{ ...rich, seq: 1 }]);
      });

      it('assigns gap-free unique seqs under concurrent appends', async () => {
        const id = uid('t');
        const batches = Array.from({ length: 20 }, (_, i) =>
          Array.from({ length: (i % 3) + 1 }, (_, j) => message(`m${i}-${j}`)),
        );
        const total = batches.reduce((n, b) => n + b.length, 0);
        const results = await Promise.all(batches.map((b) => stores.transcripts.append(id, b)));
        for (const [i, added] of results.entries()) {
          expect(added.map((m) => m.text)).toEqual(batches[i]!.map((m) => m.text));
          // One append's messages stay contiguous.
          expect(added.map((m) => m.seq - added[0]!.seq)).toEqual(added.map((_, k) => k));
        }
        const seqs = results.flat().map((m) => m.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(Array.from({ length: total }, (_, k) => k + 1));
        const listed = await stores.transcripts.list(id);
        expect(listed.map((m) => m.seq)).toEqual(seqs);
        const byText = new Map(results.flat().map((m) => [m.text, m.seq]));
        expect(listed.every((m) => byText.get(m.text) === m.seq)).toBe(true);
      });

      it('deletes a transcript and starts again from 1', async () => {
        const id = uid('t');
        await stores.transcripts.append(id, [message('a'), message('b')]);
        await stores.transcripts.delete(id);
        expect(await stores.transcripts.list(id)).toEqual([]);
        expect((await stores.transcripts.append(id, [message('c')]))[0]?.seq).toBe(1);
      });
    });

    describe('applications', () => {
      it('formats refs as WS<day>-0001 and increases them', async () => {
        expect(await stores.applications.nextRef('20260101')).toBe('WS20260101-0001');
        expect(await stores.applications.nextRef('20260101')).toBe('WS20260101-0002');
      });

      it('hands out unique increasing refs under 50 concurrent calls', async () => {
        const refs = await Promise.all(Array.from({ length: 50 }, () => stores.applications.nextRef('20260102')));
        expect(new Set(refs).size).toBe(50);
        const numbers = refs.map((r) => Number(r.split('-')[1])).sort((x, y) => x - y);
        expect(numbers).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
        expect(await stores.applications.nextRef('20260102')).toBe('WS20260102-0051');
      });

      it('keeps per-day counters independent', async () => {
        expect(await stores.applications.nextRef('20260103')).toBe('WS20260103-0001');
        expect(await stores.applications.nextRef('20260103')).toBe('WS20260103-0002');
        expect(await stores.applications.nextRef('20260104')).toBe('WS20260104-0001');
        expect(await stores.applications.nextRef('20260103')).toBe('WS20260103-0003');
      });

      it('round-trips an application and returns null for an unknown ref', async () => {
        const app = application(`WS20260105-${randomUUID().slice(0, 8)}`);
        await stores.applications.save(app);
        expect(await stores.applications.get(app.ref)).toEqual(app);
        app.status = 'cancelled';
        expect((await stores.applications.get(app.ref))?.status).toBe('submitted');
        expect(await stores.applications.get('WS19990101-9999')).toBeNull();
      });
    });

    describe('locks', () => {
      it('runs 20 concurrent holders of one key one at a time', async () => {
        const key = uid('lock');
        let inside = 0;
        let maxInside = 0;
        const order: number[] = [];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            stores.locks.withLock(key, async () => {
              inside++;
              maxInside = Math.max(maxInside, inside);
              await sleep(2);
              order.push(i);
              inside--;
              return i;
            }),
          ),
        );
        expect(maxInside).toBe(1);
        expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect([...order].sort((x, y) => x - y)).toEqual(results);
      });

      it('does not block different keys', async () => {
        const events: string[] = [];
        let releaseA!: () => void;
        const gate = new Promise<void>((r) => (releaseA = r));
        const a = stores.locks.withLock(uid('a'), async () => {
          events.push('a-start');
          await gate;
          events.push('a-end');
        });
        await sleep(20);
        await stores.locks.withLock(uid('b'), async () => {
          events.push('b');
        });
        releaseA();
        await a;
        expect(events).toEqual(['a-start', 'b', 'a-end']);
      });

      it('releases the lock when the work throws', async () => {
        const key = uid('lock');
        await expect(
          stores.locks.withLock(key, async () => {
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        const started = Date.now();
        expect(await stores.locks.withLock(key, async () => 'ok')).toBe('ok');
        expect(Date.now() - started).toBeLessThan(1_000);
      });

      it('gives up with CONVERSATION_BUSY after the lock timeout', async () => {
        const quick = await makeExtra({ lockTimeoutMs: 150 });
        const key = uid('lock');
        let releaseHolder!: () => void;
        const gate = new Promise<void>((r) => (releaseHolder = r));
        const holder = quick.locks.withLock(key, () => gate);
        await sleep(20);
        const waiter = quick.locks.withLock(key, async () => 'never');
        await expect(waiter).rejects.toBeInstanceOf(AppError);
        await expect(waiter).rejects.toMatchObject({ code: 'CONVERSATION_BUSY' });
        releaseHolder();
        await holder;
        expect(await quick.locks.withLock(key, async () => 'after')).toBe('after');
      });
    });

    describe('turn commits', () => {
      it('writes session, messages and applications together and returns the stored messages', async () => {
        const id = uid('turn');
        const app = application(`WS20260106-${randomUUID().slice(0, 8)}`);
        const stored = await stores.commitTurn(commitOf(id, [app], uid('cm')));
        expect(stored.map((m) => [m.seq, m.from, m.text])).toEqual([[1, 'user', '用户第1条'], [2, 'bot', '回复第1条']]);
        expect((await stores.sessions.get<{ step: number }>(id))?.state).toEqual({ step: 1 });
        expect(await stores.transcripts.list(id)).toEqual(stored);
        expect(await stores.applications.get(app.ref)).toEqual(app);
        const next = await stores.commitTurn(commitOf(id, [], undefined, 2));
        expect(next.map((m) => m.seq)).toEqual([3, 4]);
      });

      it('finds a committed turn by client message id, and a repeat writes nothing', async () => {
        const id = uid('turn');
        const cmid = uid('cm');
        expect(await stores.findTurn(id, cmid)).toBeNull();
        const first = await stores.commitTurn(commitOf(id, [], cmid, 1));
        expect(await stores.findTurn(id, cmid)).toEqual(first);
        const again = await stores.commitTurn(commitOf(id, [application(`WS20260107-${randomUUID().slice(0, 8)}`)], cmid, 2));
        expect(again).toEqual(first);
        expect(await stores.transcripts.list(id)).toEqual(first);
        expect((await stores.sessions.get<{ step: number }>(id))?.state).toEqual({ step: 1 });
        expect(await stores.findTurn(id, uid('other'))).toBeNull();
        expect(await stores.findTurn(uid('other'), cmid)).toBeNull();
      });

      it('commits concurrent turns of different conversations independently: one failing leaves the others whole', async () => {
        let failed = false;
        const faulty = await makeExtra({
          faultHook: (p) => {
            // The first turn to reach its first write fails there (every backend reports this point); the others go through.
            if (p === 'applications' && !failed) {
              failed = true;
              throw new Error('injected fault at applications');
            }
          },
        });
        const ids = Array.from({ length: 6 }, () => uid('group'));
        const outcomes = await Promise.allSettled(ids.map((id, i) => faulty.commitTurn(commitOf(id, [], uid('cm'), i + 1))));
        expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
        for (const [i, id] of ids.entries()) {
          const list = await faulty.transcripts.list(id);
          if (outcomes[i]!.status === 'rejected') {
            expect(list).toEqual([]);
            expect(await faulty.sessions.get(id)).toBeNull();
          } else {
            expect(list.map((m) => [m.seq, m.text])).toEqual([[1, `用户第${i + 1}条`], [2, `回复第${i + 1}条`]]);
            expect((outcomes[i] as PromiseFulfilledResult<unknown>).value).toEqual(list);
            expect((await faulty.sessions.get<{ step: number }>(id))?.state).toEqual({ step: i + 1 });
          }
        }
      });

      for (const point of POINTS) {
        it(`leaves nothing partial when a commit fails at ${point}, and the retry stores exactly one copy`, async () => {
          let armed = true;
          const reached: CommitPoint[] = [];
          const faulty = await makeExtra({
            faultHook: (p) => {
              reached.push(p);
              if (armed && p === point) throw new Error(`injected fault at ${p}`);
            },
          });
          const id = uid('fault');
          const app = { ...application(`WS20260108-${randomUUID().slice(0, 8)}`), runId: uid('run') };
          const cmid = uid('cm');
          const ob = entry(uid('ob-fault'));
          const attempt = faulty.commitTurn(commitOf(id, [app], cmid, 1, [ob]));
          if (!reached.includes(point) && point !== 'committed') {
            // This backend commits in one step (a Lua script): no write happens between the points it reports.
            await attempt.catch(() => undefined);
          } else {
            await expect(attempt).rejects.toThrow('injected fault');
          }
          const committed = (await faulty.findTurn(id, cmid)) !== null;
          if (point !== 'committed' && reached.includes(point)) {
            expect(committed).toBe(false);
            expect(await faulty.sessions.get(id)).toBeNull();
            expect(await faulty.transcripts.list(id)).toEqual([]);
            expect(await faulty.applications.get(app.ref)).toBeNull();
            expect(await faulty.applications.findByRun(app.runId)).toBeNull();
            expect(await faulty.outbox.get(ob.id)).toBeNull();
          }
          armed = false;
          // The retry: a new ref for the same flow run, the same client message id.
          const retry = await faulty.commitTurn(commitOf(id, [{ ...app, ref: `${app.ref}-r` }], cmid, 1, [ob]));
          expect((await faulty.outbox.get(ob.id))?.payload).toEqual(ob.payload);
          const list = await faulty.transcripts.list(id);
          expect(list.map((m) => m.text)).toEqual(['用户第1条', '回复第1条']);
          expect(retry).toEqual(list);
          expect((await faulty.sessions.get<{ step: number }>(id))?.state).toEqual({ step: 1 });
          const kept = await faulty.applications.findByRun(app.runId);
          expect(kept).not.toBeNull();
          // Exactly one application for the run: the first one when it got in, otherwise the retry's.
          const refs = [app.ref, `${app.ref}-r`];
          const present = (await Promise.all(refs.map((r) => faulty.applications.get(r)))).filter(Boolean);
          expect(present).toHaveLength(1);
          expect(present[0]!.ref).toBe(kept!.ref);
        });
      }
    });

    describe('application runs', () => {
      it('keeps the first application of a flow run', async () => {
        const runId = uid('run');
        const first = { ...application(`WS20260109-${randomUUID().slice(0, 8)}`), runId };
        const second = { ...application(`WS20260109-${randomUUID().slice(0, 8)}`), runId };
        expect(await stores.applications.save(first)).toEqual(first);
        expect(await stores.applications.save(second)).toEqual(first);
        expect(await stores.applications.get(second.ref)).toBeNull();
        expect(await stores.applications.findByRun(runId)).toEqual(first);
        expect(await stores.applications.findByRun(uid('none'))).toBeNull();
        const viaCommit = await stores.commitTurn(commitOf(uid('turn'), [{ ...second, ref: `${second.ref}-c` }]));
        expect(viaCommit).toHaveLength(2);
        expect(await stores.applications.get(`${second.ref}-c`)).toBeNull();
      });

      it('saves a status change of the same application', async () => {
        const app = application(`WS20260110-${randomUUID().slice(0, 8)}`);
        await stores.applications.save(app);
        await stores.applications.save({ ...app, status: 'accepted' });
        expect((await stores.applications.get(app.ref))?.status).toBe('accepted');
      });
    });

    describe('application status', () => {
      it('updates the status and note of a stored application, and answers null for an unknown ref', async () => {
        const app = application(`WS20260111-${randomUUID().slice(0, 8)}`);
        await stores.applications.save(app);
        const updated = await stores.applications.updateStatus(app.ref, 'accepted', '已派单');
        expect(updated).toMatchObject({ ref: app.ref, status: 'accepted', statusNote: '已派单', answers: app.answers, checklist: app.checklist });
        expect(await stores.applications.get(app.ref)).toEqual(updated);
        const again = await stores.applications.updateStatus(app.ref, 'completed');
        expect(again?.status).toBe('completed');
        expect(again?.statusNote).toBeUndefined();
        expect(await stores.applications.updateStatus('WS20260111-none', 'accepted')).toBeNull();
      });
    });

    describe('outbox', () => {
      it('writes entries with the turn commit, once per id, and not again on a repeated client message id', async () => {
        const id = uid('ob-conv');
        const a = entry(uid('ob-a'));
        const cmid = uid('cm');
        await stores.commitTurn(commitOf(id, [], cmid, 1, [a]));
        await stores.commitTurn(commitOf(id, [], cmid, 1, [a, entry(uid('ob-never'))]));
        await stores.commitTurn(commitOf(id, [], undefined, 2, [{ ...a, payload: { changed: true } }]));
        const got = await stores.outbox.get(a.id);
        expect(got).toMatchObject({ ...a, state: 'pending', attempts: 0 });
        const claimed = await stores.outbox.claim('me', 60_000, 1000);
        expect(claimed.filter((r) => r.id.startsWith('ob-never'))).toEqual([]);
        expect(claimed.filter((r) => r.id === a.id)).toHaveLength(1);
      });

      it('leases an entry to one owner until the lease runs out', async () => {
        const a = entry(uid('ob-lease'));
        await stores.outbox.add([a]);
        const now = Date.now() + 1;
        const first = await stores.outbox.claim('one', 1_000, 1000, now);
        expect(first.map((r) => r.id)).toContain(a.id);
        expect((await stores.outbox.claim('two', 1_000, 1000, now + 10)).map((r) => r.id)).not.toContain(a.id);
        expect(await stores.outbox.delivered(a.id, 'two')).toBe(false);
        const later = await stores.outbox.claim('two', 1_000, 1000, now + 2_000);
        expect(later.map((r) => r.id)).toContain(a.id);
        // The first owner's lease ran out: its late answer is refused, the new owner's counts.
        expect(await stores.outbox.delivered(a.id, 'one')).toBe(false);
        expect(await stores.outbox.delivered(a.id, 'two')).toBe(true);
        expect(await stores.outbox.get(a.id)).toBeNull();
      });

      it('retries at the given time, moves to the dead list, and replays', async () => {
        const a = entry(uid('ob-dead'), 'callback');
        await stores.outbox.add([a]);
        const now = Date.now() + 1;
        await stores.outbox.claim('me', 1_000, 1000, now);
        expect(await stores.outbox.failed(a.id, 'me', 'HTTP 500', now + 5_000, now)).toBe(true);
        expect(await stores.outbox.get(a.id)).toMatchObject({ state: 'pending', attempts: 1, dueAt: now + 5_000, lastError: 'HTTP 500' });
        expect((await stores.outbox.claim('me', 1_000, 1000, now + 4_000)).map((r) => r.id)).not.toContain(a.id);
        const again = await stores.outbox.claim('me', 1_000, 1000, now + 5_000);
        expect(again.find((r) => r.id === a.id)?.attempts).toBe(1);
        expect(await stores.outbox.failed(a.id, 'me', 'HTTP 503', null, now + 5_000)).toBe(true);
        expect((await stores.outbox.dead()).find((r) => r.id === a.id)).toMatchObject({ state: 'dead', attempts: 2, lastError: 'HTTP 503', kind: 'callback' });
        expect((await stores.outbox.claim('me', 1_000, 1000, now + 99_000)).map((r) => r.id)).not.toContain(a.id);
        expect(await stores.outbox.replay(a.id, now + 6_000)).toBe(true);
        expect(await stores.outbox.replay(a.id)).toBe(false);
        expect((await stores.outbox.dead()).map((r) => r.id)).not.toContain(a.id);
        const replayed = await stores.outbox.claim('me', 1_000, 1000, now + 6_000);
        expect(replayed.find((r) => r.id === a.id)).toMatchObject({ attempts: 0, payload: a.payload });
      });
    });

    describe('analytics events', () => {
      it('appends events and lists them by time range, oldest first', async () => {
        const conv = uid('ev');
        const base = Date.now();
        const ev = (offset: number, n: number): AnalyticsEvent => ({ kind: 'turn', at: new Date(base + offset).toISOString(), day: '2026-12-01', conversationId: conv, channel: 'web', data: { n, text: '停水了 😀' } });
        await stores.events.append([ev(0, 1), ev(10, 2)]);
        await stores.events.append([ev(20, 3)]);
        const mine = (await stores.events.list({ from: new Date(base).toISOString(), to: new Date(base + 20).toISOString() })).filter((e) => e.conversationId === conv);
        expect(mine.map((e) => e.data.n)).toEqual([1, 2]);
        expect(mine[0]).toEqual(ev(0, 1));
        const all = (await stores.events.list()).filter((e) => e.conversationId === conv);
        expect(all.map((e) => e.data.n)).toEqual([1, 2, 3]);
      });
    });

    describe('lookup attempts', () => {
      it('locks a key after the maximum of failures, for the lockout only, and resets on success', async () => {
        const limited = await makeExtra({ attempts: { max: 3, lockMs: 400 } });
        const key = uid('WS');
        for (let i = 0; i < 2; i++) await limited.attempts.fail(key);
        expect(await limited.attempts.blocked(key)).toBe(false);
        await limited.attempts.fail(key);
        expect(await limited.attempts.blocked(key)).toBe(true);
        expect(await limited.attempts.blocked(uid('WS'))).toBe(false);
        await sleep(600);
        expect(await limited.attempts.blocked(key)).toBe(false);
        for (let i = 0; i < 3; i++) await limited.attempts.fail(key);
        await limited.attempts.reset(key);
        expect(await limited.attempts.blocked(key)).toBe(false);
      });
    });

    describe('expiry and retention', () => {
      it('sweeps expired sessions, transcripts and applications without anyone reading them', async () => {
        const short = await makeExtra({ ttlSeconds: 1, applicationRetentionDays: 1 / 86_400, sweepIntervalMs: 200 });
        const before = await short.size();
        const id = uid('sweep');
        const app = { ...application(`WS20260111-${randomUUID().slice(0, 8)}`), submittedAt: new Date().toISOString() };
        await short.commitTurn(commitOf(id, [app]));
        const during = await short.size();
        expect(during.sessions).toBe(before.sessions + 1);
        expect(during.applications).toBe(before.applications + 1);
        await sleep(1_700);
        const after = await short.size();
        expect(after.sessions).toBeLessThanOrEqual(before.sessions);
        expect(after.transcripts).toBeLessThanOrEqual(before.transcripts);
        expect(after.applications).toBeLessThanOrEqual(before.applications);
        expect(await short.applications.get(app.ref)).toBeNull();
        await expect(short.purge(new Date())).resolves.toMatchObject({ sessions: expect.any(Number) });
      });

      it('pages a transcript with a limit', async () => {
        const id = uid('page');
        await stores.transcripts.append(id, Array.from({ length: 7 }, (_, i) => message(`m${i + 1}`)));
        expect((await stores.transcripts.list(id, 0, 3)).map((m) => m.seq)).toEqual([1, 2, 3]);
        expect((await stores.transcripts.list(id, 3, 3)).map((m) => m.seq)).toEqual([4, 5, 6]);
        expect((await stores.transcripts.list(id, 6, 3)).map((m) => m.seq)).toEqual([7]);
      });
    });

    if (durable) {
      describe('restarts', () => {
        it('keeps sessions, transcripts, applications, turns and reference counters across a restart', async () => {
          const { stores: first, reopen } = await durable();
          const id = uid('restart');
          const cmid = uid('cm');
          const day = `2099${String(Math.floor(Math.random() * 9000) + 1000)}`;
          const ref = await first.applications.nextRef(day);
          const app = { ...application(ref), runId: uid('run') };
          const stored = await first.commitTurn(commitOf(id, [app], cmid));
          await first.close();
          const again = await reopen();
          extra.push(again);
          expect((await again.sessions.get<{ step: number }>(id))?.state).toEqual({ step: 1 });
          expect(await again.transcripts.list(id)).toEqual(stored);
          expect(await again.findTurn(id, cmid)).toEqual(stored);
          expect(await again.applications.get(ref)).toEqual(app);
          expect(await again.applications.findByRun(app.runId)).toEqual(app);
          expect(await again.applications.nextRef(day)).toBe(ref.replace(/-0001$/, '-0002'));
        });
      });
    }

    it('answers ping', async () => {
      await expect(stores.ping()).resolves.toBeUndefined();
    });
  });
}
