import type { KnowledgeBase } from '../knowledge/index.js';
import type { Analyzer } from './analyzer.js';
import { CueSet } from './cues.js';
import { normalize } from './normalize.js';
import type { ReadMessage } from './reader.js';
import type { Candidate } from './retriever.js';

/** What a whole message says beyond its topic. */
export interface MessageSignals {
  /** An emergency: burst main, water on the road, a building or area without water, days without water, elderly without water. */
  urgent: boolean;
  /** A complaint or anger strong enough for a person. */
  complaint: boolean;
  /** The user asks for a person. */
  asked: boolean;
  /** The smalltalk intent, when the message is only smalltalk (greeting, thanks, a thank-you letter, a closing). */
  smalltalk: string | null;
  /** Another business's topic (electricity, gas…), when nothing about water is asked. */
  scopeTopic: string | null;
}

/** A complaint word in a message this long (characters) is a narrative complaint, not a question about complaining. */
const NARRATIVE = 60;
/** Smalltalk intents that a long message of thanks or praise is. */
const GRATITUDE = ['thanks', 'praise'];
/** Strict question words: a message with one of these asks something, thanks or not. */
const QUESTION = /[?？]|请问|怎么|如何|为什么|为啥|吗|能否|能不能|可不可以|多少|什么时候|哪里|在哪|哪些|谁|是不是|有没有|咋|要不要|什么(?!要问)/;
/** Smalltalk intents that close a conversation or thank: with no question and no word of ours left, the message is one. */
const CLOSING = ['thanks', 'praise', 'bye', 'ack', 'greet'];

/** Reads hand-off, urgency, complaint, smalltalk and scope from a whole message, from the intents data. */
export class Signals {
  private readonly handoff: string[];
  private readonly handoffExact: Set<string>;
  private readonly handoffExclude: string[];
  private readonly urgent: CueSet;
  private readonly complaint: CueSet;
  private readonly complaintStrong: CueSet;
  private readonly domain: string[];
  private readonly flowCues: string[];
  private readonly questionWords: string[];
  private readonly scope: { topic: string; words: string[]; evenAboutWater: boolean }[];
  private readonly smalltalk: { id: string; patterns: string[] }[];
  private readonly stop: Set<string>;
  private readonly itemTerms: Map<string, string[]>;
  private readonly flowTerms: Map<string, string[]>;
  /** Per flow, each of its items' terms, less those that name the flow's situation itself ("装修"): they do not count towards the flow. */
  private readonly flowItemTerms: Map<string, string[][]>;

  constructor(private readonly kb: KnowledgeBase, private readonly analyzer: Analyzer) {
    const norm = (list: string[]) => list.map((p) => normalize(p)).filter(Boolean);
    const i = kb.intents;
    const hotline = normalize(kb.utility.hotline);
    this.handoff = norm([...i.handoff.patterns, `打${hotline}`, `接${hotline}`, `转${hotline}`, `${hotline}的人工`, `${hotline}人工`]);
    this.handoffExact = new Set(norm(i.handoff.exact));
    this.handoffExclude = norm(i.handoff.exclude);
    this.urgent = new CueSet(i.urgent.patterns);
    this.complaint = new CueSet(i.complaint.patterns);
    this.complaintStrong = new CueSet(i.complaint.strong);
    this.domain = norm(i.domain);
    this.flowCues = norm(i.flowCues);
    // Punctuation is dropped by normalize, so the question mark (either width) is looked for in the raw text.
    this.questionWords = i.control.question.contains.flatMap((w) => (w === '?' ? ['?', '？'] : [w]));
    this.scope = i.outOfScope.map((s) => ({ topic: s.topic, words: norm(s.words), evenAboutWater: s.evenAboutWater }));
    this.smalltalk = kb.smalltalk.intents.map((s) => ({ id: s.id, patterns: norm(s.patterns).sort((a, b) => b.length - a.length) }));
    this.stop = new Set(norm(i.stopwords));
    this.flowTerms = new Map([...kb.flows.values()].map((f) => [f.id, f.keywords.map((t) => analyzer.analyze(t).text).filter((t) => t.length >= 2)]));
    this.itemTerms = new Map(
      [...kb.items.values()].map((it) => [it.id, [...new Set([...it.aliases, ...it.keywords].map((t) => analyzer.analyze(t).text).filter((t) => t.length >= 2))]]),
    );
    this.flowItemTerms = new Map(
      [...kb.flows.values()].map((flow) => {
        const situation = this.flowTerms.get(flow.id) ?? [];
        return [flow.id, flow.items.map((id) => (this.itemTerms.get(id) ?? []).filter((t) => !situation.some((w) => t.includes(w) || w.includes(t))))];
      }),
    );
  }

  /** Every signal of a read message. */
  of(read: ReadMessage): MessageSignals {
    const s = read.whole;
    const long = s.replace(/\s/g, '').length >= NARRATIVE;
    const complaints = this.complaint.all(s);
    const complaint = !!this.complaintStrong.find(s) || (complaints.length > 0 && (long || complaints.length >= 2 && complaints.some((c) => c !== '投诉')));
    const urgent = !!this.urgent.find(s);
    const asked = this.isHandoff(s);
    const st = urgent || complaint || asked ? null : this.smalltalkOf(read);
    // In a story, another business or city mentioned in passing ("我在深圳工作", "净水器也不敢用了") is not what is asked.
    const scopeText = read.context ? read.asks.join(' ') : s;
    return { urgent, complaint, asked, smalltalk: st, scopeTopic: st ? null : this.scopeTopic(scopeText, s) };
  }

  /** Whether the text has water-service words (the intents' domain list). */
  isDomain(s: string): boolean {
    return this.domain.some((w) => s.includes(w));
  }

  /** Whether the text asks for several linked things done together (a 一件事). */
  flowCue(s: string): boolean {
    return this.flowCues.some((w) => s.includes(w));
  }

  /**
   * The flow whose own situation word a statement names ("我在江汉区开个奶茶店，要新装水表"): the resident says what
   * they are doing rather than asking about it. `raw` keeps the question marks; null for a question.
   */
  situationFlow(raw: string, folded: string): string | null {
    if (this.questionWords.some((w) => raw.includes(w))) return null;
    for (const [id, terms] of this.flowTerms) if (terms.some((t) => folded.includes(t))) return id;
    return null;
  }

  /** The text without its smalltalk ("你好，过户要带什么" → "过户要带什么"). */
  withoutSmalltalk(s: string): string {
    let rest = s;
    for (const i of this.smalltalk) for (const p of i.patterns) if (p.length > 1 && rest.includes(p)) rest = rest.split(p).join(' ');
    return rest.replace(/\s+/g, ' ').trim();
  }

  /** A flow the text spans by naming two or more of its items ("过户、查欠费、签代扣"). */
  multiItemFlow(folded: string, ranked: Candidate[]): string | null {
    const scoreOf = (id: string) => ranked.find((c) => c.key === `flow:${id}`)?.score ?? 0;
    let best: { id: string; n: number; score: number } | null = null;
    for (const [id, items] of this.flowItemTerms) {
      const n = items.filter((terms) => terms.some((t) => folded.includes(t))).length;
      if (n < 2) continue;
      const score = scoreOf(id);
      if (score > 0 && (!best || n > best.n || (n === best.n && score > best.score))) best = { id, n, score };
    }
    return best?.id ?? null;
  }

  private isHandoff(s: string): boolean {
    if (this.handoffExact.has(s.replace(/\s/g, ''))) return true;
    let rest = s;
    for (const x of this.handoffExclude) rest = rest.split(x).join(' ');
    return this.handoff.some((p) => rest.includes(p));
  }

  /** The smalltalk intent when the message is nothing but smalltalk, or a thank-you letter that asks nothing. */
  private smalltalkOf(read: ReadMessage): string | null {
    const s = read.whole;
    let rest = s;
    let found: string | null = null;
    const whole = s.replace(/\s/g, '');
    for (const i of this.smalltalk)
      for (const p of i.patterns)
        // One-character patterns (好, 嗯) count only as the whole message.
        if (p.length === 1 ? whole === p : rest.includes(p)) {
          found ??= i.id;
          rest = rest.split(p).join(' ');
        }
    if (!found) return null;
    const left = this.analyzer.analyze(rest).words.filter((w) => !this.stop.has(w));
    if (left.length === 0) return found;
    // "不用了，拜拜", "行吧，没别的事了": a closing with nothing of ours left and no question.
    // A question word inside the closing itself ("知道怎么弄了") asks nothing.
    if (CLOSING.includes(found) && !QUESTION.test(rest) && !this.isDomain(rest) && !this.namesItem(rest)) return found;
    // Thanks and praise that ask nothing are a thank-you, however much they tell about the repair.
    const gratitude = this.smalltalk.find((i) => GRATITUDE.includes(i.id) && i.patterns.some((p) => p.length > 1 && s.includes(p)));
    return gratitude && !QUESTION.test(s) && !QUESTION.test(read.asks.join(' ')) ? gratitude.id : null;
  }

  /** Another business's topic asked about in `s`; `whole` (the message around it) tells whether it is about water. */
  private scopeTopic(s: string, whole = s): string | null {
    // "水电费" is about electricity as much as water: the scope reply names both hotlines.
    const dry = (t: string) => t.replace(/水电(费|气)?/g, '电费');
    const waterless = dry(s);
    const water = dry(whole).includes('水');
    // Other cities' utilities, and words that name another business's water ("热水器", "桶装水"), win even over 水.
    return this.scope.find((t) => t.words.some((w) => waterless.includes(w) && (!water || t.evenAboutWater || w.includes('水'))))?.topic ?? null;
  }

  /** Whether the text names any item's alias or keyword. */
  private namesItem(s: string): boolean {
    const compact = s.replace(/\s/g, '');
    for (const terms of this.itemTerms.values()) if (terms.some((t) => compact.includes(t))) return true;
    return false;
  }
}
