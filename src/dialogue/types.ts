import type { Application, Reply } from '../core/index.js';
import type { Aspect, KnowledgeBase } from '../knowledge/index.js';
import type { Classifier } from '../nlu/index.js';
import type { SlotValue } from './slots.js';

/** Current session schema version; bump with a migration in migrate(). */
export const STATE_VERSION = 2;

/** Where an application in progress is: asking its questions, then materials, 告知承诺, the summary, submitting. */
export type FlowPhase = 'asking' | 'materials' | 'commitment' | 'confirm' | 'submitting';

/** A 一件事 (or a single item's own application) in progress. */
export interface FlowState {
  id: string;
  /** Set for a single item's own application: `id` is then `apply-<item id>`. */
  single?: boolean;
  answers: Record<string, SlotValue>;
  /** The question being asked; null once past the questions. */
  questionId: string | null;
  phase: FlowPhase;
  /** Question ids in the order they were answered, for going back. */
  answered: string[];
  /** Set while changing one answer from the summary: return there afterwards. */
  editing: boolean;
  /** Whether 可容缺 materials are missing, and the 告知承诺 answer. */
  missingOptional?: boolean;
  commitmentAccepted?: boolean;
  /** The checklist the materials answer was given for; a change of answer that changes it asks again. */
  checklistKey?: string;
  /** Wrong answers in a row to the current question. */
  failures?: number;
  /** Questions skipped with "稍后补充". */
  skipped?: string[];
  /** Asked "放弃当前办理吗？" before starting this other target (`flow:<id>` / `apply:<item>`). */
  switchTo?: string;
}

/** The question on screen whose buttons are live: postbacks name its id. */
export interface PromptRef {
  id: number;
  /** What was asked (`q:<questionId>`, `confirm`, `materials`…): asking the same again keeps the id. */
  key: string;
}

interface Common {
  v: number;
  /** The guide being discussed, for follow-ups. */
  itemId?: string;
  aspect?: Aspect;
  /** Fallbacks in a row. */
  fallbacks: number;
  /** Reference numbers submitted in this conversation. */
  applications: string[];
  /** The last question shown with buttons. */
  prompt?: PromptRef;
  /** The flow of the last application submitted in this conversation, for "装修完了怎么恢复用水". */
  lastFlowId?: string;
  /** When the user last wrote (ISO instant): who comes back after a while is reminded where they were. */
  lastSeen?: string;
  /** The language of the user's last message that showed one: button presses and numbers are answered in it. */
  lang?: Lang;
}

/** A reply language. */
export type Lang = 'zh' | 'en';

/** Talking with the bot, no application in progress. */
export interface BotState extends Common {
  mode: 'bot' | 'closed';
  /** A progress lookup waiting for the applicant's mobile. */
  lookupRef?: string;
}

/** An application in progress. */
export interface FlowModeState extends Common {
  mode: 'flow';
  flow: FlowState;
}

/** Handed to a person; an application in progress is kept to resume. */
export interface HandoffState extends Common {
  mode: 'handoff' | 'agent';
  handoffReason: HandoffReason;
  suspended?: FlowState;
}

/** The whole dialogue state of one conversation, one shape per mode. */
export type DialogueState = BotState | FlowModeState | HandoffState;

/** What the engine receives. */
export type DialogueInput =
  | { kind: 'start' }
  | { kind: 'text'; text: string }
  | { kind: 'postback'; payload: string }
  | { kind: 'application-created'; application: Application }
  | { kind: 'lookup-result'; application: Application | null };

/** Side effects the engine asks the caller to carry out, each answered with an input. */
export type Effect =
  | { type: 'create-application'; draft: Omit<Application, 'ref'> }
  | { type: 'lookup-application'; ref: string; mobile: string }
  | { type: 'handoff'; reason: HandoffReason; summary: string };

/** Why a conversation goes to a person. */
export type HandoffReason = 'user-request' | 'repeated-fallback' | 'urgent' | 'complaint' | 'clarify-none' | 'stuck' | 'unknown';

/** The engine's answer: replies, the next state, and effects to run. */
export interface DialogueResult {
  replies: Reply[];
  state: DialogueState;
  effects: Effect[];
}

/** What the engine reads but never changes. */
export interface DialogueContext {
  kb: KnowledgeBase;
  classifier: Classifier;
  now: Date;
  conversationId: string;
  /** The language to answer in: the conversation's (chosen at its start); within a turn, the engine sets the turn's. */
  lang?: Lang;
}
