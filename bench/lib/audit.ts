/**
 * The end-of-run audit of bench:load: every conversation's stored transcript against what the load sent and what
 * the agents posted. A message is lost when it was sent and is not stored, duplicated when it is stored twice.
 */
import type { Message } from '../../src/core/index.js';

/** One user message as the load sent it. */
export interface SentMessage {
  clientMessageId: string;
  /** The text, or the postback payload (stored as the user's text). */
  text: string;
  /** The replies the POST answered with (seq, sender, text), checked against the transcript. */
  replies: Array<Pick<Message, 'seq' | 'from' | 'text'>>;
  /** Answered 200. A refused message (or one whose every try failed) may be stored once or not at all. */
  accepted: boolean;
}

/** What the load knows of one conversation. */
export interface ConversationLog {
  id: string;
  kind: string;
  sent: SentMessage[];
  /** The welcome and other messages the start answered with. */
  opening: Array<Pick<Message, 'seq' | 'from' | 'text'>>;
}

/** The audit of one conversation (or of all, summed). */
export interface AuditCounts {
  conversations: number;
  /** User messages answered 200. */
  sent: number;
  /** User messages refused or never answered (not expected in the transcript). */
  refused: number;
  /** User messages found in the transcripts. */
  stored: number;
  lost: number;
  duplicated: number;
  /** Seqs missing, repeated or out of order. */
  seqFaults: number;
  /** User messages with no bot, system or agent message after them (before the next user message). */
  unanswered: number;
  agentSent: number;
  agentLost: number;
  /** Messages a POST answered with that the transcript has differently or not at all. */
  replyMismatches: number;
  /** Examples of what went wrong, for the report. */
  faults: string[];
}

/** All zeros. */
export function emptyCounts(): AuditCounts {
  return { conversations: 0, sent: 0, refused: 0, stored: 0, lost: 0, duplicated: 0, seqFaults: 0, unanswered: 0, agentSent: 0, agentLost: 0, replyMismatches: 0, faults: [] };
}

/** Sums `b` into `a`, keeping at most 10 examples. */
export function addCounts(a: AuditCounts, b: AuditCounts): AuditCounts {
  for (const k of Object.keys(a) as Array<keyof AuditCounts>) if (k !== 'faults') a[k] += b[k];
  a.faults.push(...b.faults.slice(0, Math.max(0, 10 - a.faults.length)));
  return a;
}

/** How a user's text is stored: the server's masker (personal numbers masked), or the text itself. */
export type StoredForm = (text: string) => string;

/** Checks one conversation's transcript (every message, from seq 1) against the load's log and the agents' lines. */
export function auditConversation(log: ConversationLog, transcript: Message[], agentLines: readonly string[] = [], storedForm: StoredForm = (t) => t): AuditCounts {
  const c = emptyCounts();
  const sameText = (sent: string, stored: string) => storedForm(sent) === stored;
  const fault = (what: string) => c.faults.length < 10 && c.faults.push(`${log.kind} ${log.id}: ${what}`);
  c.conversations = 1;
  c.sent = log.sent.filter((s) => s.accepted).length;
  c.refused = log.sent.length - c.sent;
  transcript.forEach((m, i) => {
    if (m.seq !== i + 1) (c.seqFaults++, fault(`message ${i + 1} has seq ${m.seq}`));
  });

  // The user's messages, in the order sent: each accepted one exactly once.
  const users = transcript.filter((m) => m.from === 'user');
  c.stored = users.length;
  let k = 0;
  log.sent.forEach((s, i) => {
    // Where it is stored: next in line, or a few further on (what lies between was stored but never sent there).
    const at = users.slice(k, k + 5).findIndex((m) => sameText(s.text, m.text));
    if (at < 0) {
      if (s.accepted) (c.lost++, fault(`"${s.text}" (${s.clientMessageId}) answered but not stored`));
      return;
    }
    for (const m of users.slice(k, k + at)) (c.duplicated++, fault(`seq ${m.seq} "${m.text}" stored but not sent there`));
    k += at + 1;
    // Further copies right after it (unless the next message sent is the same text).
    while (k < users.length && sameText(s.text, users[k]!.text) && !(log.sent[i + 1] && sameText(log.sent[i + 1]!.text, users[k]!.text))) (c.duplicated++, fault(`seq ${users[k]!.seq} "${s.text}" stored twice`), k++);
  });
  for (const m of users.slice(k)) (c.duplicated++, fault(`seq ${m.seq} "${m.text}" stored but not sent there`));

  transcript.forEach((m, i) => {
    if (m.from !== 'user') return;
    const next = transcript[i + 1];
    if (!next || next.from === 'user') (c.unanswered++, fault(`seq ${m.seq} "${m.text}" has no answer after it`));
  });

  const bySeq = new Map(transcript.map((m) => [m.seq, m]));
  for (const r of [...log.opening, ...log.sent.flatMap((s) => s.replies)]) {
    const m = bySeq.get(r.seq);
    if (!m || m.from !== r.from || m.text !== r.text) (c.replyMismatches++, fault(`reply seq ${r.seq} not stored as answered`));
  }

  c.agentSent = agentLines.length;
  const stored = transcript.filter((m) => m.from === 'agent').map((m) => m.text);
  for (const line of agentLines) {
    const n = stored.filter((t) => t === line).length;
    if (n === 0) (c.agentLost++, fault(`agent line "${line}" not stored`));
    else if (n > 1) (c.duplicated += n - 1, fault(`agent line "${line}" stored ${n} times`));
  }
  return c;
}
