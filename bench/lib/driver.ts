// A closed-loop load driver: N virtual users, one keep-alive connection each, every user playing conversations one
// after another (start, then its messages, reacting to the buttons the bot offers) until the time is up. Every
// response's latency goes into a histogram; status codes, transport errors and scripts the bot did not follow are
// counted. `driveRequests` is the same loop with one fixed request, for the hello-world baseline.
import type { Conversation, ConversationKind, Step } from './corpus.js';
import { LatencyHistogram } from './histogram.js';
import type { HttpClient } from './http-client.js';

export { createHttpClient, type HttpClient } from './http-client.js';

/** What a run measured. */
export interface DriveResult {
  /** Wall time from the first request to the last response, in s. */
  seconds: number;
  /** Latency of the message requests (POST …/messages), or of the fixed request in driveRequests. */
  latency: LatencyHistogram;
  /** Of those, the 2xx responses. */
  ok: number;
  /** Latency of starting conversations (POST /api/v1/conversations). */
  starts: LatencyHistogram;
  /** Responses by HTTP status, both kinds of request. */
  statusCodes: Record<number, number>;
  /** Transport errors (reset, timeout, unreadable body). */
  errors: number;
  /** A few error and non-2xx descriptions, for the report. */
  samples: string[];
  conversationsStarted: number;
  conversationsFinished: number;
  /** Required clicks on buttons the bot did not offer: the script and the bot disagree. */
  divergences: number;
  /** Optional clicks (and follow-ups) skipped because the bot offered no such button. */
  skipped: number;
  /** Conversations started and message responses, by kind of conversation. */
  kinds: Partial<Record<ConversationKind, { conversations: number; messages: number }>>;
  /** Distinct texts typed (personal numbers included). */
  distinctTexts: number;
  /** Of those, texts of DriveOptions.corpus (the questions, not the answers to a flow's questions). */
  distinctCorpusTexts: number;
  /** Distinct application reference numbers seen in replies. */
  applications: number;
}

/** Options of driveConversations. */
export interface DriveOptions {
  client: HttpClient;
  connections: number;
  durationMs: number;
  /** The next conversation a user starts; undefined: this user stops (a fixed list played once). */
  next: () => Conversation | undefined;
  /** The corpus's texts, to count how many distinct ones were sent. */
  corpus?: readonly string[];
  /** Called with each finished conversation and the references it obtained (the tests check these). */
  onFinished?: (c: Conversation, refs: string[]) => void;
}

interface QuickReply {
  title: string;
  postback: string;
}
interface Reply {
  text: string;
  quickReplies?: QuickReply[];
}

const REF = /WS\d{8}-\d{4,}/g;
/** Buttons a follow-up click never takes: they start a flow, an application or a handoff (other kinds of traffic). */
const NOT_FOLLOW_UP = /^(flow|apply|handoff)\b/;

function emptyResult(): DriveResult {
  return { seconds: 0, latency: new LatencyHistogram(), ok: 0, starts: new LatencyHistogram(), statusCodes: {}, errors: 0, samples: [], conversationsStarted: 0, conversationsFinished: 0, divergences: 0, skipped: 0, kinds: {}, distinctTexts: 0, distinctCorpusTexts: 0, applications: 0 };
}

/** The request body of a step given the bot's last reply, or null when a click finds no button ('skip' when optional). */
export function payloadOf(step: Step, last: Reply[], pick: (n: number) => number): { text: string } | { postback: string } | 'skip' | null {
  if ('text' in step) return { text: step.text };
  if ('postback' in step) return { postback: step.postback };
  const offered = last.at(-1)?.quickReplies ?? [];
  if ('follow' in step) {
    const choices = offered.filter((q) => !NOT_FOLLOW_UP.test(q.postback));
    return choices.length ? { postback: choices[pick(choices.length)]!.postback } : 'skip';
  }
  const hit = offered.find((q) => q.title === step.click) ?? last.flatMap((m) => m.quickReplies ?? []).find((q) => q.title === step.click);
  if (hit) return { postback: hit.postback };
  return step.optional ? 'skip' : null;
}

/** Runs the virtual users until durationMs has passed; each finishes its request in flight. */
export async function driveConversations(options: DriveOptions): Promise<DriveResult> {
  const { client, durationMs, next } = options;
  const r = emptyResult();
  const texts = new Set<string>();
  const refs = new Set<string>();
  const started = performance.now();
  const deadline = started + durationMs;
  const open = () => performance.now() < deadline;
  let seq = 0;

  const note = (what: string) => r.samples.length < 10 && r.samples.push(what);
  const exchange = async (path: string, body: unknown, headers: Record<string, string> | undefined, into: LatencyHistogram): Promise<{ ok: boolean; json?: Record<string, unknown> }> => {
    try {
      const x = await client.send('POST', path, body, headers);
      into.record(x.ms);
      r.statusCodes[x.status] = (r.statusCodes[x.status] ?? 0) + 1;
      if (x.status < 200 || x.status >= 300) {
        note(`${x.status} on ${path.replace(/\/conversations\/[^/]+/, '/conversations/:id')} ${JSON.stringify(body)}: ${x.body.slice(0, 200)}`);
        return { ok: false };
      }
      if (into === r.latency) r.ok++;
      return { ok: true, json: JSON.parse(x.body) as Record<string, unknown> };
    } catch (err) {
      r.errors++;
      note(`error on ${path}: ${(err as Error).message}`);
      return { ok: false };
    }
  };

  /** Where a conversation stands: what the bot said last, what the user did last, the references obtained. */
  interface Progress {
    path: string;
    headers: Record<string, string>;
    last: Reply[];
    prev: unknown;
    refs: string[];
  }

  /** Plays one step; false ends the conversation (an error, or a click on a button the bot did not offer). */
  const act = async (c: Conversation, step: Step, p: Progress): Promise<boolean> => {
    const payload = payloadOf(step, p.last, (n) => Math.floor(Math.random() * n));
    if (payload === 'skip') return (r.skipped++, true);
    if (payload === null) {
      r.divergences++;
      const said = (p.last.at(-1)?.text ?? '').replace(/\s+/g, ' ').slice(0, 120);
      note(`${c.name}: no button "${'click' in step ? step.click : ''}" after ${JSON.stringify(p.prev)}; the bot said "${said}", offered: ${(p.last.at(-1)?.quickReplies ?? []).map((q) => q.title).join(' | ') || '(none)'}`);
      return false;
    }
    if ('text' in payload) texts.add(payload.text);
    p.prev = payload;
    const sent = await exchange(p.path, { ...payload, clientMessageId: `b${++seq}` }, p.headers, r.latency);
    if (!sent.ok) return false;
    r.kinds[c.kind]!.messages++;
    p.last = (sent.json!.messages as Reply[]) ?? [];
    for (const m of p.last) for (const ref of m.text.match(REF) ?? []) if (!refs.has(ref)) (refs.add(ref), p.refs.push(ref));
    return true;
  };

  const play = async (c: Conversation) => {
    const start = await exchange('/api/v1/conversations', c.lang ? { lang: c.lang } : {}, undefined, r.starts);
    if (!start.ok) return;
    r.conversationsStarted++;
    (r.kinds[c.kind] ??= { conversations: 0, messages: 0 }).conversations++;
    const { conversationId, token, messages } = start.json as { conversationId: string; token: string; messages?: Reply[] };
    const p: Progress = { path: `/api/v1/conversations/${conversationId}/messages`, headers: { authorization: `Bearer ${token}` }, last: messages ?? [], prev: null, refs: [] };
    for (const step of c.steps) if (!open() || !(await act(c, step, p))) return;
    r.conversationsFinished++;
    options.onFinished?.(c, p.refs);
  };

  const user = async () => {
    for (let c = open() ? next() : undefined; c; c = open() ? next() : undefined) await play(c);
  };
  await Promise.all(Array.from({ length: options.connections }, user));
  r.seconds = (performance.now() - started) / 1000;
  r.distinctTexts = texts.size;
  r.distinctCorpusTexts = options.corpus ? options.corpus.filter((t) => texts.has(t)).length : 0;
  r.applications = refs.size;
  return r;
}

/** The same closed loop with one fixed request (the hello-world baseline, and the driver's own ceiling). */
export async function driveRequests(options: { client: HttpClient; connections: number; durationMs: number; path?: string }): Promise<DriveResult> {
  const r = emptyResult();
  const started = performance.now();
  const deadline = started + options.durationMs;
  const user = async () => {
    while (performance.now() < deadline) {
      try {
        const x = await options.client.send('GET', options.path ?? '/');
        r.latency.record(x.ms);
        if (x.status >= 200 && x.status < 300) r.ok++;
        r.statusCodes[x.status] = (r.statusCodes[x.status] ?? 0) + 1;
      } catch (err) {
        r.errors++;
        if (r.samples.length < 10) r.samples.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, user));
  r.seconds = (performance.now() - started) / 1000;
  return r;
}

/** Responses with a status outside 2xx. */
export function non2xx(r: DriveResult): number {
  return Object.entries(r.statusCodes).reduce((n, [code, count]) => (Number(code) >= 200 && Number(code) < 300 ? n : n + count), 0);
}

/** Successful message responses (or fixed requests) per second. */
export function rate(r: DriveResult): number {
  return r.ok / r.seconds;
}
