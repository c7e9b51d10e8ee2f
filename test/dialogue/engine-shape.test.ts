/** The engine's shape: pure (the input state is never changed), v1 states migrate, no import cycle in src/dialogue. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialState, migrate, step, STATE_VERSION, type DialogueContext, type DialogueState } from '../../src/dialogue/index.js';
import { loadKnowledge } from '../../src/knowledge/index.js';
import { createClassifier } from '../../src/nlu/index.js';

let ctx: DialogueContext;
beforeAll(() => {
  const kb = loadKnowledge();
  ctx = { kb, classifier: createClassifier(kb), now: new Date('2026-12-04T02:00:00Z'), conversationId: 'c1' };
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

/** Plays texts from a state, freezing every state handed to the engine. */
function play(state: DialogueState, inputs: string[]): DialogueState {
  let s = state;
  for (const text of inputs) {
    const before = JSON.stringify(s);
    const r = step(ctx, deepFreeze(s), text.startsWith('#') ? { kind: 'postback', payload: text.slice(1) } : { kind: 'text', text });
    expect(JSON.stringify(s)).toBe(before);
    s = r.state;
  }
  return s;
}

describe('engine shape', () => {
  it('never changes the state it is given, through a whole flow', () => {
    const s = play(initialState(), ['我要装修', '需要', '下周三', '不需要', '不需要', '1002345678', '张三', '13912345678', '洪山区珞喻路100号3栋501']);
    expect(s.mode).toBe('flow');
    if (s.mode === 'flow') expect(s.flow.phase === 'materials' || s.flow.phase === 'confirm').toBe(true);
  });

  it('never changes the state it is given through hand-off, resume, stale buttons, recap and a switch', () => {
    const s = play(initialState(), ['我要装修', '需要', '#p:99:yes', '#yes', '你好', '转人工', '在吗', '继续办理', '我要开店', '继续当前办理', '下周三']);
    expect(s.mode).toBe('flow');
    if (s.mode === 'flow') expect(s.flow.answers).toMatchObject({ needSuspend: true, suspendDate: '2026-12-09' });
  });

  it('keeps every answer button within Telegram\'s 64-byte callback data', () => {
    const flows = [...ctx.kb.flows.values(), ...ctx.kb.applications.values()];
    const payloads = flows.flatMap((f) => [...f.questions.map((q) => `edit:${q.id}`), ...f.questions.flatMap((q) => (q.options ?? []).map((o) => `opt:${o.value}`))]);
    for (const p of payloads) expect(Buffer.byteLength(`p:999999:${p}`), p).toBeLessThanOrEqual(64);
  });

  it('migrates a stored version-1 flow state (stepId, history) to the current shape', () => {
    const v1 = { v: 1, mode: 'flow', fallbacks: 0, applications: ['WS20261204-0001'], flow: { id: 'renovation', answers: { needSuspend: false }, stepId: 'relocate', phase: 'asking', history: ['needSuspend'], editing: false } };
    const s = migrate(v1);
    expect(s.v).toBe(STATE_VERSION);
    expect(s.mode).toBe('flow');
    if (s.mode !== 'flow') return;
    expect(s.flow.questionId).toBe('relocate');
    expect(s.flow.answered).toEqual(['needSuspend']);
    expect(s.applications).toEqual(['WS20261204-0001']);
    // The migrated state carries on where it was: the pending question is answered.
    const r = step(ctx, s, { kind: 'text', text: '不需要' });
    expect(r.state.mode === 'flow' && r.state.flow.questionId).toBe('resize');
  });

  it('migrates version-1 handoff and bot states, and anything unreadable to a fresh state', () => {
    expect(migrate({ v: 1, mode: 'handoff', fallbacks: 0, applications: [], handoffReason: 'urgent' })).toMatchObject({ mode: 'handoff', handoffReason: 'urgent', v: STATE_VERSION });
    expect(migrate({ v: 1, mode: 'flow', fallbacks: 0, applications: [] })).toMatchObject({ mode: 'bot' });
    expect(migrate({ v: 1, mode: 'bot', fallbacks: 1, applications: [], lookupRef: 'WS20261204-0001' })).toMatchObject({ mode: 'bot', lookupRef: 'WS20261204-0001', fallbacks: 1 });
    expect(migrate(null)).toEqual(initialState());
    expect(migrate('garbage')).toEqual(initialState());
  });

  it('has no import cycle among the source files', () => {
    const files = new Map<string, string[]>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) {
          const src = readFileSync(p, 'utf8');
          const deps = [...src.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].filter((m) => !/^import type|^export type/.test(m[0])).map((m) => resolve(dirname(p), m[1]!.replace(/\.js$/, '.ts')));
          files.set(resolve(p), deps);
        }
      }
    };
    walk('src');
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((x) => x.replace(resolve('src') + '/', '')).join(' → '));
        return;
      }
      state.set(f, 'visiting');
      for (const d of files.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files.keys()) visit(f, []);
    expect(cycles.filter((c) => c.includes('dialogue/'))).toEqual([]);
  });
});
