/** A transcript message. */
export interface Message {
  seq: number;
  from: 'user' | 'bot' | 'agent' | 'system';
  at: string;
  text: string;
  author?: string;
}

/** A queue entry. */
export interface QueueItem {
  id: string;
  conversationId: string;
  channel: string;
  reason: string;
  reasonLabel: string;
  priority: 'urgent' | 'complaint' | 'asked';
  summary: string;
  status: 'queued' | 'claimed';
  agent?: string;
  waitingS: number;
  position?: number;
}

/** What /me returns. */
export interface Me {
  agent: { login: string; name: string; state: string; role: 'agent' | 'admin' };
  csrfToken: string;
  resolutions: { code: string; label: string }[];
  canned: string[];
  slots: string[];
  hotline: string;
  utility: string;
}

/** The handoff packet. */
export interface Packet {
  handoff: { id: string; conversationId: string; channel: string; reason: string; priority: string; summary: string; status: string; agent?: string; createdAt: string; applicationRef?: string; secrets: { name: string; label: string; masked: string }[]; transfers: { from: string; to: string; note: string }[] };
  reasonLabel: string;
  waitingS: number;
  messages: Message[];
}

/** A dead outbox entry, as GET /api/v1/backoffice/outbox lists it. */
export interface DeadLetter {
  id: string;
  kind: 'application' | 'callback' | 'handoff-outcome';
  payload: Record<string, unknown>;
  createdAt: string;
  attempts: number;
  /** Epoch ms when it died. */
  dueAt: number;
  lastError?: string;
}

/** The outbox admin list: counts and the dead entries, newest first. */
export interface DeadLetterList {
  counts: { pending: number; dead: number };
  entries: DeadLetter[];
}
