import type { Application, Mode, Reply } from '../core/index.js';
import type { Aspect, KnowledgeBase } from '../knowledge/index.js';
import type { Classifier } from '../nlu/index.js';
import type { SlotValue } from './slots.js';

/** Current session schema version; bump with a migration in migrate(). */
export const STATE_VERSION = 1;

/** A 一件事 in progress. */
export interface FlowState {
  id: string;
  answers: Record<string, SlotValue>;
  /** The step being asked, or the phase after the steps. */
  stepId: string | null;
  phase: 'asking' | 'materials' | 'commitment' | 'confirm' | 'submitting';
  /** Step ids in the order they were answered, for going back. */
  history: string[];
  /** Set while changing one answer from the summary: return there afterwards. */
  editing: boolean;
  /** Whether 可容缺 materials are missing, and the 告知承诺 answer. */
  missingOptional?: boolean;
  commitmentAccepted?: boolean;
  /** The checklist the materials answer was given for; a change of answer that changes it asks again. */
  checklistKey?: string;
}

/** The whole dialogue state of one conversation. */
export interface DialogueState {
  v: number;
  mode: Mode;
  /** The guide being discussed, for follow-ups. */
  itemId?: string;
  aspect?: Aspect;
  /** Fallbacks in a row. */
  fallbacks: number;
  flow?: FlowState;
  /** Reference numbers submitted in this conversation. */
  applications: string[];
  /** A progress lookup waiting for the applicant's mobile. */
  lookupRef?: string;
  handoffReason?: string;
}

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
export type HandoffReason = 'user-request' | 'repeated-fallback' | 'urgent' | 'clarify-none' | 'unknown';

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
}
