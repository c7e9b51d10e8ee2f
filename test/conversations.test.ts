/**
 * Conversation tests as data: every test/conversations/*.yaml is a scripted dialogue played against the real
 * HTTP app (memory stores, optional fixed clock). See test/conversations/README.md for the format.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConversationService } from '../src/conversation/index.js';
import { createLogger, type Message } from '../src/core/index.js';
import { loadKnowledge, type KnowledgeBase } from '../src/knowledge/index.js';
import { createClassifier, type Classifier } from '../src/nlu/index.js';
import { buildServer } from '../src/server/index.js';
import { createMemoryStores } from '../src/store/index.js';

const DIR = 'test/conversations';
const REF = /^WS\d{8}-\d{4}$/;

// ---------------------------------------------------------------- format

const QUOTE = "must be a string: quote numbers ('13812345678'), YAML would read them as numbers";
const strings = z.array(z.string({ error: QUOTE }).min(1));
/** A string to match, or null for "must be absent". */
const present = z.string().min(1).nullable();

const expectSchema = z.strictObject({
  /** HTTP status of the message request (default 200); with a non-200 status only `error` is checked. */
  status: z.number().int().optional(),
  /** Error code of a non-200 answer. */
  error: z.string().optional(),
  mode: z.enum(['bot', 'flow', 'handoff', 'agent', 'closed']).optional(),
  flowId: present.optional(),
  itemId: present.optional(),
  /** true: state.applicationRef is a reference number; false: absent. */
  applicationRef: z.boolean().optional(),
  /** Every string appears in the joined reply texts. */
  contains: strings.optional(),
  /** No string appears in the joined reply texts. */
  notContains: strings.optional(),
  /** Every string appears in the text of the last reply (the question asked now). */
  lastContains: strings.optional(),
  /** These button titles are offered (in any reply). */
  buttons: strings.optional(),
  /** These button titles are not offered. */
  notButtons: strings.optional(),
  /** Some reply carries a card of this type. */
  card: z.enum(['guide', 'checklist', 'summary', 'application', 'handoff']).optional(),
  /** Exact number of replies. */
  replies: z.number().int().min(0).optional(),
  /** Every reply carries this language. */
  lang: z.enum(['zh', 'en']).optional(),
});

const turnSchema = z
  .strictObject({
    /** Typed text; `{{ref}}` is the last applicationRef, `{{repeat:<text>:<n>}}` repeats text n times. */
    user: z.string({ error: QUOTE }).optional(),
    /** Clicks a quick reply of the last bot message by its title. */
    click: z.string().min(1).optional(),
    /** Clicks a button of an earlier turn's bot message (a stale button still on screen), the most recent first. */
    clickEarlier: z.string().min(1).optional(),
    /** Sends a raw postback. */
    postback: z.string().min(1).optional(),
    /** Seconds the fixed clock moves on before this turn (the user comes back later). */
    wait: z.number().int().positive().optional(),
    expect: expectSchema.default({}),
  })
  .refine((t) => [t.user, t.click, t.clickEarlier, t.postback].filter((x) => x !== undefined).length === 1, { message: 'a turn needs exactly one of user, click, clickEarlier, postback' });

const applicationSchema = z.strictObject({
  /** The mobile to look the application up with; defaults to the last mobile number the user typed. */
  mobile: z.string().optional(),
  flowId: z.string().optional(),
  status: z.string().optional(),
  route: present.optional(),
  /** The linked items, in order. */
  items: strings.optional(),
  dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  timeLimit: z.strictObject({ value: z.number().int(), unit: z.enum(['工作日', '自然日']), unverified: z.boolean().optional() }).optional(),
  /** Checklist entries (by name, substring) that must be present. */
  checklistHas: strings.optional(),
  /** Checklist entries (by name, substring) that must be absent. */
  checklistLacks: strings.optional(),
  /** Entries under 告知承诺 (by name, substring); each must carry promised.dueBy. */
  promised: strings.optional(),
  /** The 告知承诺 due date of every promised entry and of the commitment. */
  promisedBy: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  /** true: a commitment was accepted; false: none or declined. */
  commitmentAccepted: z.boolean().optional(),
  /** label → value rows that must appear in fields (values as displayed, masked). */
  fields: z.record(z.string(), z.string()).optional(),
  /** No raw personal number typed in the dialogue appears anywhere in the public application. */
  masked: z.boolean().optional(),
  nextStepsContain: strings.optional(),
});

const scriptSchema = z.strictObject({
  name: z.string().min(1),
  /** Fixed clock (ISO instant); the real clock when absent. */
  now: z.iso.datetime().optional(),
  userId: z.string().optional(),
  /** The conversation's language, given at its creation (`POST /api/v1/conversations {lang}`). */
  lang: z.enum(['zh', 'en']).optional(),
  /** What the welcome must say, and its language. */
  welcome: z.strictObject({ contains: strings.optional(), lang: z.enum(['zh', 'en']).optional() }).optional(),
  turns: z.array(turnSchema).min(1),
  after: z
    .strictObject({
      application: applicationSchema.optional(),
      /** How many applications the dialogue stored. */
      applications: z.number().int().min(0).optional(),
    })
    .optional(),
});

type Script = z.infer<typeof scriptSchema>;
type Turn = z.infer<typeof turnSchema>;

interface Loaded {
  file: string;
  script?: Script;
  problem?: string;
}

/** A zod issue path as a script author reads it: turns are numbered from 1. */
function where(path: PropertyKey[]): string {
  if (!path.length) return '(root)';
  if (path[0] === 'turns' && typeof path[1] === 'number') return [`turn ${path[1] + 1}`, ...path.slice(2)].join('.');
  return path.join('.');
}

function loadScripts(): Loaded[] {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  return files.map((file) => {
    let raw: unknown;
    try {
      raw = parse(readFileSync(join(DIR, file), 'utf8'));
    } catch (err) {
      return { file, problem: `${file}: not valid YAML: ${(err as Error).message}` };
    }
    const r = scriptSchema.safeParse(raw);
    if (!r.success) return { file, problem: `${file}: bad script:\n${r.error.issues.map((i) => `  ${where(i.path)}: ${i.message}`).join('\n')}` };
    return { file, script: r.data };
  });
}

// ---------------------------------------------------------------- running

interface Played {
  status: number;
  body: { messages?: Message[]; state?: { mode: string; itemId?: string; flowId?: string; applicationRef?: string }; error?: { code: string; message: string } };
}

function show(messages: Message[] | undefined): string {
  if (!messages?.length) return '    (no reply)';
  return messages
    .map((m) => {
      const text = m.text.length > 600 ? `${m.text.slice(0, 600)}…(${m.text.length} chars)` : m.text;
      const lines = [`    ${text.replace(/\n/g, '\n    ')}`];
      if (m.card) lines.push(`    [card ${m.card.type}]`);
      if (m.quickReplies?.length) lines.push(`    buttons: ${m.quickReplies.map((q) => `${q.title} (${q.postback})`).join(' | ')}`);
      return lines.join('\n');
    })
    .join('\n    ---\n');
}

function fill(text: string, vars: { ref?: string }, where: string): string {
  return text
    .replace(/\{\{repeat:([^:}]*):(\d+)\}\}/g, (_, s: string, n: string) => s.repeat(Number(n)))
    .replace(/\{\{ref\}\}/g, () => {
      if (!vars.ref) throw new Error(`${where}: {{ref}} used before any application was submitted`);
      return vars.ref;
    });
}

/** Mobiles typed in the dialogue ("+86 138-1234-5678" too), standalone only (not inside an ID number). */
const MOBILE = /(?<![\dA-Za-z])(?:\+?86)?(1[3-9]\d{9})(?!\d)/g;
/** Typed text as the validators read it: full-width folded, no spaces or dashes. */
const compact = (t: string) => t.normalize('NFKC').replace(/[\s-]/g, '').toUpperCase();
/** Personal numbers typed in the dialogue: 户号, mobiles, ID numbers, credit codes. */
const PERSONAL = /(?<![\dA-Z])(?:\d{17}[\dX]|[0-9A-HJ-NP-RTUWXY]{18}|\d{10,11})(?![\dA-Z])/g;

function checkTurn(file: string, n: number, said: string, turn: Turn, played: Played): string[] {
  const e = turn.expect;
  const problems: string[] = [];
  const wantStatus = e.status ?? 200;
  if (played.status !== wantStatus) problems.push(`HTTP status ${played.status}, expected ${wantStatus}${played.body.error ? ` (${played.body.error.code}: ${played.body.error.message})` : ''}`);
  if (e.error !== undefined && played.body.error?.code !== e.error) problems.push(`error code ${played.body.error?.code ?? '(none)'}, expected ${e.error}`);
  if (wantStatus !== 200 || played.status !== 200) return problems;

  const messages = played.body.messages ?? [];
  const state = played.body.state!;
  const texts = messages.map((m) => m.text).join('\n');
  const buttons = messages.flatMap((m) => m.quickReplies ?? []).map((q) => q.title);
  // Sample data is marked in data, never shown: no reply, button or card says "示例".
  if (JSON.stringify(messages).includes('示例')) problems.push('a reply shows "示例"');
  const field = (name: 'mode' | 'flowId' | 'itemId', want: string | null | undefined) => {
    if (want === undefined) return;
    const got = state[name];
    if (want === null ? got !== undefined : got !== want) problems.push(`state.${name} is ${got ?? '(absent)'}, expected ${want ?? '(absent)'}`);
  };
  field('mode', e.mode);
  field('flowId', e.flowId);
  field('itemId', e.itemId);
  if (e.applicationRef === true && !REF.test(state.applicationRef ?? '')) problems.push(`state.applicationRef is ${state.applicationRef ?? '(absent)'}, expected a reference number`);
  if (e.applicationRef === false && state.applicationRef !== undefined) problems.push(`state.applicationRef is ${state.applicationRef}, expected none`);
  for (const s of e.contains ?? []) if (!texts.includes(s)) problems.push(`replies do not contain "${s}"`);
  for (const s of e.notContains ?? []) if (texts.includes(s)) problems.push(`replies contain "${s}"`);
  const last = messages.at(-1)?.text ?? '';
  for (const s of e.lastContains ?? []) if (!last.includes(s)) problems.push(`the last reply does not contain "${s}"`);
  for (const b of e.buttons ?? []) if (!buttons.includes(b)) problems.push(`no button "${b}"`);
  for (const b of e.notButtons ?? []) if (buttons.includes(b)) problems.push(`unexpected button "${b}"`);
  if (e.card && !messages.some((m) => m.card?.type === e.card)) problems.push(`no ${e.card} card`);
  if (e.replies !== undefined && messages.length !== e.replies) problems.push(`${messages.length} replies, expected ${e.replies}`);
  if (e.lang) for (const [k, m] of messages.entries()) if (m.lang !== e.lang) problems.push(`reply ${k + 1} has lang ${m.lang ?? '(absent)'}, expected ${e.lang}`);
  // Whatever the user typed, the bot never sends markup back.
  if (/<\s*script|<\s*img|<\s*iframe/i.test(texts)) problems.push('a reply contains HTML markup');
  if (!problems.length) return [];
  return [
    `${file}: turn ${n} (${said}):`,
    ...problems.map((p) => `  - ${p}`),
    `  state: ${JSON.stringify(state)}`,
    `  bot said:\n${show(messages)}`,
  ];
}

let kb: KnowledgeBase;
let classifier: Classifier;

beforeAll(() => {
  kb = loadKnowledge();
  classifier = createClassifier(kb);
});

async function buildApp(script: Script): Promise<{ app: FastifyInstance; saved: () => number; wait: (seconds: number) => void }> {
  const stores = createMemoryStores();
  let saved = 0;
  // Applications are written with the turn's commit; count what the commits stored.
  const commit = stores.commitTurn.bind(stores);
  stores.commitTurn = async (c) => {
    const stored = await commit(c);
    saved += c.applications.length;
    return stored;
  };
  const logger = createLogger('silent');
  let fixed = script.now ? new Date(script.now) : null;
  const service = createConversationService({ kb, classifier, stores, logger, ...(fixed ? { now: () => new Date(fixed!) } : {}) });
  const wait = (seconds: number) => {
    if (!fixed) throw new Error('`wait` needs a fixed clock (`now`)');
    fixed = new Date(fixed.getTime() + seconds * 1000);
  };
  const app = await buildServer({ service, stores, logger });
  return { app, saved: () => saved, wait };
}

async function play(file: string, script: Script): Promise<void> {
  const { app, saved, wait } = await buildApp(script);
  try {
    const payload = { ...(script.userId ? { userId: script.userId } : {}), ...(script.lang ? { lang: script.lang } : {}) };
    const started = await app.inject({ method: 'POST', url: '/api/v1/conversations', payload });
    expect(started.statusCode, `${file}: starting the conversation`).toBe(201);
    const { conversationId, token, messages: welcome } = started.json() as { conversationId: string; token: string; messages: Message[] };
    for (const s of script.welcome?.contains ?? []) expect(welcome.map((m) => m.text).join('\n'), `${file}: the welcome`).toContain(s);
    if (script.welcome?.lang) expect(welcome.map((m) => m.lang), `${file}: the welcome's language`).toEqual(welcome.map(() => script.welcome!.lang));
    const headers = { authorization: `Bearer ${token}` };
    let last: Message[] = welcome;
    const earlier: Message[][] = [];
    let stored = welcome.length;
    const vars: { ref?: string } = {};
    const typed: string[] = [];

    for (const [i, turn] of script.turns.entries()) {
      const n = i + 1;
      const where = `${file}: turn ${n}`;
      if (turn.wait) wait(turn.wait);
      let payload: { text: string } | { postback: string };
      let said: string;
      if (turn.click !== undefined) {
        const offered = last.at(-1)?.quickReplies ?? [];
        const hit = offered.find((q) => q.title === turn.click);
        if (!hit) throw new Error(`${where}: no button "${turn.click}" on the last bot message; offered: ${offered.map((q) => q.title).join(' | ') || '(none)'}\n  bot said:\n${show(last)}`);
        payload = { postback: hit.postback };
        said = `click "${turn.click}" → ${hit.postback}`;
      } else if (turn.clickEarlier !== undefined) {
        const hit = earlier
          .flatMap((ms) => ms.flatMap((m) => m.quickReplies ?? []))
          .reverse()
          .find((q) => q.title === turn.clickEarlier);
        if (!hit) throw new Error(`${where}: no earlier button "${turn.clickEarlier}"`);
        payload = { postback: hit.postback };
        said = `click earlier "${turn.clickEarlier}" → ${hit.postback}`;
      } else if (turn.postback !== undefined) {
        payload = { postback: fill(turn.postback, vars, where) };
        said = `postback ${payload.postback}`;
      } else {
        const text = fill(turn.user!, vars, where);
        typed.push(text);
        payload = { text };
        said = `user "${text.length > 60 ? `${text.slice(0, 60)}…(${text.length} chars)` : text}"`;
      }
      const res = await app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/messages`, payload, headers });
      const played: Played = { status: res.statusCode, body: res.json() };
      const e = turn.expect;
      const filled = (list?: string[]) => list?.map((t) => fill(t, vars, where));
      const expanded = { ...turn, expect: { ...e, contains: filled(e.contains), notContains: filled(e.notContains), lastContains: filled(e.lastContains) } };
      const problems = checkTurn(file, n, said, expanded, played);
      if (problems.length) throw new Error(problems.join('\n'));
      if (res.statusCode === 200) {
        earlier.push(last);
        last = played.body.messages ?? [];
        stored += 1 + last.length;
        if (played.body.state?.applicationRef) vars.ref = played.body.state.applicationRef;
      }
    }

    // The transcript holds every message once, numbered without gaps.
    const history = await app.inject({ method: 'GET', url: `/api/v1/conversations/${conversationId}/messages?after=0`, headers });
    const all = (history.json() as { messages: Message[] }).messages;
    expect(all.map((m) => m.seq), `${file}: transcript sequence`).toEqual(Array.from({ length: stored }, (_, k) => k + 1));

    const after = script.after;
    if (after?.applications !== undefined) expect(saved(), `${file}: number of applications stored`).toBe(after.applications);
    if (after?.application) await checkApplication(app, file, after.application, vars.ref, typed);
  } finally {
    await app.close();
  }
}

async function checkApplication(app: FastifyInstance, file: string, want: z.infer<typeof applicationSchema>, ref: string | undefined, typed: string[]): Promise<void> {
  const where = `${file}: after.application`;
  if (!ref) throw new Error(`${where}: the dialogue submitted no application`);
  const mobile = want.mobile ?? typed.flatMap((t) => [...compact(t).matchAll(MOBILE)].map((m) => m[1]!)).at(-1);
  if (!mobile) throw new Error(`${where}: no mobile typed in the dialogue; set after.application.mobile`);
  const res = await app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${mobile}` });
  if (res.statusCode !== 200) throw new Error(`${where}: GET /api/v1/applications/${ref}?mobile=${mobile} → ${res.statusCode} ${res.body}`);
  const a = res.json() as {
    flowId: string;
    status: string;
    route?: string;
    items: string[];
    dueDate: string;
    timeLimit: { value: number; unit: string };
    checklist: { name: string; promised?: { dueBy: string } }[];
    commitment?: { accepted: boolean; dueBy?: string };
    fields: { label: string; value: string }[];
    nextSteps: string[];
    mobile: string;
  };
  const problems: string[] = [];
  const eq = (name: string, got: unknown, exp: unknown) => {
    if (exp !== undefined && JSON.stringify(got) !== JSON.stringify(exp)) problems.push(`${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(exp)}`);
  };
  eq('flowId', a.flowId, want.flowId);
  eq('status', a.status, want.status);
  if (want.route !== undefined) eq('route', a.route ?? null, want.route);
  eq('items', a.items, want.items);
  eq('dueDate', a.dueDate, want.dueDate);
  // Only the keys the script names: `unverified` is checked when given.
  eq('timeLimit', want.timeLimit && Object.fromEntries(Object.keys(want.timeLimit).map((k) => [k, (a.timeLimit as Record<string, unknown>)[k] ?? false])), want.timeLimit);
  const names = a.checklist.map((m) => m.name);
  for (const s of want.checklistHas ?? []) if (!names.some((x) => x.includes(s))) problems.push(`checklist has no "${s}"`);
  for (const s of want.checklistLacks ?? []) if (names.some((x) => x.includes(s))) problems.push(`checklist has "${s}"`);
  for (const s of want.promised ?? []) {
    const m = a.checklist.find((x) => x.name.includes(s));
    if (!m?.promised) problems.push(`checklist entry "${s}" is not under 告知承诺`);
  }
  if (want.promisedBy) {
    for (const m of a.checklist.filter((x) => x.promised)) if (m.promised!.dueBy !== want.promisedBy) problems.push(`"${m.name}" promised by ${m.promised!.dueBy}, expected ${want.promisedBy}`);
    if (a.commitment?.dueBy !== want.promisedBy) problems.push(`commitment.dueBy is ${a.commitment?.dueBy}, expected ${want.promisedBy}`);
  }
  if (want.commitmentAccepted !== undefined && !!a.commitment?.accepted !== want.commitmentAccepted) problems.push(`commitment is ${JSON.stringify(a.commitment)}, expected accepted=${want.commitmentAccepted}`);
  for (const [label, value] of Object.entries(want.fields ?? {})) {
    const row = a.fields.find((f) => f.label === label);
    if (row?.value !== value) problems.push(`field ${label} is ${row ? JSON.stringify(row.value) : '(absent)'}, expected ${JSON.stringify(value)}`);
  }
  for (const s of want.nextStepsContain ?? []) if (!a.nextSteps.some((t) => t.includes(s))) problems.push(`next steps do not mention "${s}"`);
  if (want.masked) {
    const json = res.body;
    const raws = typed.flatMap((t) => [...(compact(t).match(PERSONAL) ?? []), ...[...compact(t).matchAll(MOBILE)].map((m) => m[1]!)]);
    for (const raw of new Set(raws)) if (json.includes(raw)) problems.push(`raw personal number ${raw} appears in the public application`);
    if (!/^\d{3}\*{4}\d{4}$/.test(a.mobile)) problems.push(`mobile is ${a.mobile}, expected it masked`);
    if ('answers' in a || 'conversationId' in a) problems.push('the public application exposes answers or conversationId');
    const other = mobile.endsWith('0') ? `${mobile.slice(0, -1)}1` : `${mobile.slice(0, -1)}0`;
    const wrong = await app.inject({ method: 'GET', url: `/api/v1/applications/${ref}?mobile=${other}` });
    if (wrong.statusCode !== 404) problems.push(`lookup with another mobile answered ${wrong.statusCode}, expected 404`);
  }
  if (problems.length) throw new Error([`${where} (${ref}):`, ...problems.map((p) => `  - ${p}`), `  application: ${JSON.stringify(a, null, 1).slice(0, 3000)}`].join('\n'));
}

// ---------------------------------------------------------------- tests

const loaded = loadScripts();

describe('conversation scripts', () => {
  it('finds the dialogue files', () => {
    expect(loaded.length, `no dialogues in ${DIR}`).toBeGreaterThan(0);
  });

  for (const { file, script, problem } of loaded) {
    it(script ? `${file}: ${script.name}` : file, async () => {
      if (problem) throw new Error(problem);
      await play(file, script!);
    });
  }
});
