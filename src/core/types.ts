/** A button the user can press; its postback comes back as input. */
export interface QuickReply {
  title: string;
  postback: string;
}

/** Rich content a channel may render; every card also has a plain-text fallback in the message text. */
export type Card =
  | { type: 'guide'; itemId: string; title: string; facts: { label: string; value: string }[] }
  | { type: 'checklist'; title: string; entries: { name: string; requirement: string; commitment: boolean; provided?: boolean }[] }
  | { type: 'summary'; title: string; fields: { label: string; value: string }[] }
  | { type: 'application'; ref: string; title: string; status: string; dueDate: string | null; fields: { label: string; value: string }[] }
  | { type: 'handoff'; reason: string; ticket?: string };

/** Who wrote a transcript message. */
export type Sender = 'user' | 'bot' | 'agent' | 'system';

/** A reply before it is stored (no sequence number yet). */
export interface Reply {
  text: string;
  /** Language of the text: `zh` (default) or `en`. */
  lang?: 'zh' | 'en';
  /** Display name of the person who wrote it (agent messages: "人工客服 <name>"). */
  author?: string;
  quickReplies?: QuickReply[];
  card?: Card;
}

/** A stored transcript message, as the API returns it. */
export interface Message extends Reply {
  seq: number;
  from: Sender;
  at: string;
}

/** The coarse conversation mode the API reports. */
export type Mode = 'bot' | 'flow' | 'handoff' | 'agent' | 'closed';

/** One line of an application's materials checklist. */
export interface ChecklistEntry {
  /** The material's stable id in the knowledge base (absent on applications stored before ids). */
  id?: string;
  name: string;
  requirement: '必备' | '可容缺';
  commitment: boolean;
  /** Which service items need this material. */
  items: string[];
  /** 告知承诺 signed for this missing material: hand it in by `dueBy`. */
  promised?: { dueBy: string };
}

/** A submitted 一件事 application. */
export interface Application {
  ref: string;
  /** The flow run that created it: a second save with the same run keeps the first application. */
  runId?: string;
  flowId: string;
  title: string;
  conversationId: string;
  /** Answers by slot id, raw; mask before display. */
  answers: Record<string, string | number | boolean>;
  /** Display rows, already masked. */
  fields: { label: string; value: string }[];
  route?: string;
  items: string[];
  checklist: ChecklistEntry[];
  commitment?: { accepted: boolean; dueBy?: string; text?: string };
  mobile: string;
  status: 'submitted' | 'accepted' | 'completed' | 'cancelled';
  /** The back office's note with the latest status change, and when it came. */
  statusNote?: string;
  statusUpdatedAt?: string;
  submittedAt: string;
  /** null while the clock has not started: 可容缺 materials missing and no 告知承诺 signed (counted from acceptance). */
  dueDate: string | null;
  /** `unverified`: the source gives no such limit, it is shown as 参考; `scheduled`: due on the day the applicant chose. */
  timeLimit: { value: number; unit: '工作日' | '自然日'; unverified?: boolean; scheduled?: boolean };
  nextSteps: string[];
}
