import type { Aspect } from '../knowledge/index.js';
import type { Candidate, TargetKey } from './retriever.js';

/** The decisions the understanding can reach. */
export type Decision = 'answer' | 'clarify' | 'flow' | 'handoff' | 'smalltalk' | 'fallback';

/** Why a message is handed to a person, most pressing first. */
export type HandoffReason = 'urgent' | 'complaint' | 'asked';

/** Priority of each hand-off reason: 1 is the most pressing (urgent > complaint > asked). */
export const HANDOFF_PRIORITY: Record<HandoffReason, 1 | 2 | 3> = { urgent: 1, complaint: 2, asked: 3 };

/** What the assistant understood of one message. */
export interface Understanding {
  decision: Decision;
  itemId: string | null;
  flowId: string | null;
  aspect: Aspect | null;
  /** Ranked targets, at most 5: `item:<id>` or `flow:<id>` (the fused ranking). */
  candidates: TargetKey[];
  /** For clarify: the 2–4 targets offered. */
  options?: TargetKey[];
  /** The smalltalk intent id. */
  smalltalk?: string;
  /** The out-of-scope topic, when the message is about another business. */
  scopeTopic?: string;
  /** The message describes an emergency: offer a person at once. */
  urgent: boolean;
  /** Targets the message names by alias or keyword. */
  named?: TargetKey[];
  /** Debug: the scored (fused) ranking. */
  ranking?: Candidate[];
  /** Language the message is written in; reply in it. */
  lang?: 'zh' | 'en';
  /** For handoff: why (urgent > complaint > asked). */
  handoffReason?: HandoffReason;
  /** For handoff: 1 = urgent, 2 = complaint, 3 = asked. */
  priority?: 1 | 2 | 3;
  /** For handoff (and smalltalk around a topic): the guide item the message is about, to show beside the hand-off (who repairs what, outage notices, how to complain). */
  alsoItem?: string;
  /** A second question in the same message, on another target: offer it as a button after the answer. */
  secondAsk?: TargetKey;
  /** Calibrated probability (0..1) that the top candidate is what the user means. */
  confidence?: number;
  /** For answer: the index of the item's FAQ the question repeats; answer that FAQ (the aspect is then null). */
  faq?: number;
  /** The message was typed in Hanyu pinyin (wholly or in part) and read as Chinese. */
  pinyin?: boolean;
}
