// What the benchmarks send: at least MIN_TEXTS distinct texts (the labelled fixtures in the variants residents add
// around a question, and every example and FAQ question of the knowledge base), played as realistic conversations:
// guide questions with follow-ups, complete 一件事 flows from the scripted dialogues of test/conversations (personal
// numbers fresh in every conversation), flows started and left, and users who ask for a person.
import { createHash } from 'node:crypto';
import { loadHandoffTexts } from '../../src/handoff/texts.js';
import { loadKnowledge, type KnowledgeBase } from '../../src/knowledge/index.js';
import { decisionTexts, VARIANTS } from '../../scripts/decisions.js';
import { readFixtures } from '../../scripts/fixtures.js';
import { mobile, seededRandom, varyNumbers, type Random } from './personal.js';
import { readScripts, type Conversation, type ConversationKind, type Step } from './scripts.js';

export type { Conversation, ConversationKind, Step } from './scripts.js';

/** The corpus must hold at least this many distinct texts (issue 11 §1). */
export const MIN_TEXTS = 2000;

/** The share of conversations of each kind in mixed traffic. */
export type Mix = Record<ConversationKind, number>;

/** Mixed traffic as the issue describes it: 70 % guide questions, 20 % flows, 10 % handoffs. */
export const DEFAULT_MIX: Mix = { guide: 0.7, flow: 0.2, handoff: 0.1 };

/** Which part of the texts a corpus draws from: warm-up and measurement never share a text. */
export type CorpusPart = 'warmup' | 'measure' | 'all';

/** Options of createCorpus. */
export interface CorpusOptions {
  kb?: KnowledgeBase;
  /** Seed of the shuffles and the generated numbers (default 1): the same seed plays the same traffic. */
  seed?: number;
  part?: CorpusPart;
  knowledgeDir?: string;
}

/** Texts and conversation scripts, and an endless supply of conversations drawn from them. */
export interface Corpus {
  /** Every distinct text the corpus can send (all parts), at least MIN_TEXTS. */
  readonly texts: readonly string[];
  /** Questions about a service item (this part). */
  readonly guideTexts: readonly string[];
  /** Messages that start a 一件事 (this part). */
  readonly flowTexts: readonly string[];
  /** Requests for a person, complaints and emergencies (this part). */
  readonly handoffTexts: readonly string[];
  /** The playable dialogues of test/conversations. */
  readonly scripts: readonly Conversation[];
  /** The next conversation of a kind: texts come from shuffled decks, so every text is sent before any repeats. */
  nextConversation(kind: ConversationKind): Conversation;
  /** The next conversation of a kind drawn by the mix. */
  next(mix?: Mix): Conversation;
  /** A script with fresh personal numbers, and dates without a year (what nextConversation plays of it). */
  fresh(script: Conversation): Conversation;
}

/** An endless shuffled cycle through a list. */
function deck<T>(items: readonly T[], rng: Random): () => T {
  if (!items.length) throw new Error('empty deck');
  let order: T[] = [];
  return () => {
    if (!order.length) {
      order = [...items];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    return order.pop()!;
  };
}

/** A stable tenth of the texts is for warm-up only. */
const isWarmup = (text: string) => createHash('sha1').update(text).digest()[0]! < 26;

function partOf(texts: Iterable<string>, part: CorpusPart): string[] {
  return [...texts].filter((t) => part === 'all' || isWarmup(t) === (part === 'warmup'));
}

/** The distinct texts split by what they ask for: fixtures by their label, the knowledge base's own by where they stand. */
function labelledTexts(kb: KnowledgeBase): { all: string[]; flow: Set<string>; handoff: Set<string> } {
  const fixtures = readFixtures();
  const variants = (kind: string) => new Set(fixtures.filter((f) => f.expect.startsWith(kind)).flatMap((f) => VARIANTS.map((v) => v(f.text))));
  const flow = variants('flow:');
  for (const f of kb.flows.values()) for (const e of f.examples) flow.add(e);
  const handoff = variants('handoff');
  const all = decisionTexts(kb);
  if (all.length < MIN_TEXTS) throw new Error(`the corpus has ${all.length} distinct texts, fewer than ${MIN_TEXTS}`);
  return { all, flow, handoff };
}

/** "2026-10-08" → "10月8日": scripts fix their clock, a live server does not, and a date without a year is the next such day. */
function withoutYear(text: string): string {
  return text.replace(/(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?/g, (_, _y, m: string, d: string) => `${Number(m)}月${Number(d)}日`);
}

/** Builds the corpus; throws when it holds fewer than MIN_TEXTS distinct texts. */
export function createCorpus(options: CorpusOptions = {}): Corpus {
  const kb = options.kb ?? loadKnowledge();
  const rng = seededRandom(options.seed ?? 1);
  const part = options.part ?? 'all';
  const { all, flow, handoff } = labelledTexts(kb);
  const guideTexts = partOf(all.filter((t) => !flow.has(t) && !handoff.has(t)), part);
  const flowTexts = partOf(flow, part);
  const handoffTexts = partOf(handoff, part);
  const scripts = readScripts();
  const words = loadHandoffTexts(options.knowledgeDir ?? 'knowledge');
  const cancel = kb.intents.control.cancel.exact;
  const account = new RegExp(kb.utility.accountNumber.pattern);

  const draw = { guide: deck(guideTexts, rng), flow: deck(flowTexts, rng), handoff: deck(handoffTexts, rng) };
  const scripted = {
    guide: deck(scripts.filter((s) => s.kind === 'guide'), rng),
    flow: deck(scripts.filter((s) => s.kind === 'flow'), rng),
    handoff: deck(scripts.filter((s) => s.kind === 'handoff'), rng),
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)]!;

  /** A script with fresh personal numbers and dates a live clock accepts. */
  const instance = (script: Conversation): Conversation => {
    const seen = new Map<string, string>();
    const steps = script.steps.map((s): Step => ('text' in s ? { text: varyNumbers(withoutYear(s.text), rng, seen, account) } : s));
    return { ...script, steps };
  };

  /** 1–4 questions from the deck, sometimes a click on a follow-up button, sometimes a thank-you. */
  const guide = (): Conversation => {
    const steps: Step[] = [{ text: draw.guide() }];
    if (rng() < 0.35) steps.push({ follow: true });
    for (let n = Math.floor(rng() * 4); n > 0; n--) steps.push({ text: draw.guide() });
    return { kind: 'guide', name: 'guide-questions', steps, submits: false };
  };

  /** A 一件事 started from a resident's own words and left again. */
  const browse = (): Conversation => ({ kind: 'flow', name: 'flow-started-and-left', steps: [{ text: draw.flow() }, { text: pick(cancel) }], submits: false });

  /** A request for a person; then waiting and leaving, booking a callback, or nothing more. */
  const person = (): Conversation => {
    const steps: Step[] = [{ text: draw.handoff() }];
    const r = rng();
    if (r < 0.4) steps.push({ text: pick(['还要等多久', '好的，我等一下', '人呢？', '麻烦快一点']) }, { text: pick(words.words.cancel) });
    else if (r < 0.7) steps.push({ click: words.buttons.callback, optional: true }, { text: mobile(rng) }, { click: pick(words.slots), optional: true });
    return { kind: 'handoff', name: 'handoff-request', steps, submits: false };
  };

  const nextConversation = (kind: ConversationKind): Conversation => {
    const r = rng();
    if (kind === 'flow') return r < 0.75 ? instance(scripted.flow()) : browse();
    if (kind === 'handoff') return r < 0.25 ? instance(scripted.handoff()) : person();
    return r < 0.15 ? instance(scripted.guide()) : guide();
  };

  return {
    texts: all,
    guideTexts,
    flowTexts,
    handoffTexts,
    scripts,
    nextConversation,
    fresh: instance,
    next(mix = DEFAULT_MIX) {
      const r = rng() * (mix.guide + mix.flow + mix.handoff);
      return nextConversation(r < mix.guide ? 'guide' : r < mix.guide + mix.flow ? 'flow' : 'handoff');
    },
  };
}

/** Every text a conversation types (for counting distinct texts sent). */
export function typedTexts(c: Conversation): string[] {
  return c.steps.flatMap((s) => ('text' in s ? [s.text] : []));
}
