// The user's side of the scripted dialogues in test/conversations/*.yaml (format: test/conversations/README.md),
// as conversation templates for the benchmarks: what was typed, clicked or posted back, without the expectations.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** What a virtual user does in one turn. */
export type Step =
  /** Types a text. */
  | { text: string }
  /** Clicks the quick reply with this title on the last reply; `optional`: skipped when not offered. */
  | { click: string; optional?: boolean }
  /** Sends a raw postback. */
  | { postback: string }
  /** Clicks one of the last reply's follow-up buttons at random (a guide's 多久办好/在哪办…), if any. */
  | { follow: true };

/** The three kinds of traffic: guide questions, 一件事 flows, and users who ask for a person. */
export type ConversationKind = 'guide' | 'flow' | 'handoff';

/** One conversation a virtual user plays, from the start. */
export interface Conversation {
  kind: ConversationKind;
  /** Where it comes from: a script file, or the generator that made it. */
  name: string;
  lang?: 'zh' | 'en';
  steps: Step[];
  /** Whether it ends with a submitted application (a reference number in a reply). */
  submits: boolean;
}

interface RawTurn {
  user?: unknown;
  click?: unknown;
  clickEarlier?: unknown;
  postback?: unknown;
  wait?: unknown;
  expect?: { status?: number; mode?: string; applicationRef?: boolean };
}

/** A script is left out when it needs what a live server cannot give: a moving clock, earlier buttons, {{ref}}. */
function playable(turns: RawTurn[]): boolean {
  return turns.every((t) => t.wait === undefined && t.clickEarlier === undefined && !JSON.stringify([t.user, t.postback]).includes('{{'));
}

/** The step of a turn, or null for a turn the server is meant to reject (a 4xx is no benchmark traffic). */
function stepOf(t: RawTurn): Step | null {
  if ((t.expect?.status ?? 200) !== 200) return null;
  if (t.click !== undefined) return { click: String(t.click) };
  if (t.postback !== undefined) return { postback: String(t.postback) };
  return { text: String(t.user) };
}

/** The kind of a script: flow when it submits, handoff when it reaches a person, guide otherwise. */
function kindOf(turns: RawTurn[]): ConversationKind {
  if (turns.some((t) => t.expect?.applicationRef === true)) return 'flow';
  if (turns.some((t) => t.expect?.mode === 'handoff')) return 'handoff';
  return 'guide';
}

/** Reads the playable scripts of a folder (test/conversations by default). */
export function readScripts(dir = 'test/conversations'): Conversation[] {
  const out: Conversation[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const raw = parse(readFileSync(join(dir, file), 'utf8')) as { lang?: 'zh' | 'en'; turns?: RawTurn[] };
    const turns = raw.turns ?? [];
    if (!turns.length || !playable(turns)) continue;
    // The dialogues run without the handoff module, where the bot keeps answering after a handoff; in the real app
    // the conversation waits in the queue from there on, so the user's side ends with the request for a person.
    const reached = turns.findIndex((t) => t.expect?.mode === 'handoff');
    const played = reached < 0 ? turns : turns.slice(0, reached + 1);
    const kind = kindOf(played);
    const steps = played.map(stepOf).filter((s): s is Step => s !== null);
    out.push({ kind, name: file.replace(/\.ya?ml$/, ''), ...(raw.lang ? { lang: raw.lang } : {}), steps, submits: kind === 'flow' });
  }
  return out;
}
