import { describe, expect, it } from 'vitest';
import { auditConversation, type ConversationLog, type SentMessage } from '../../bench/lib/audit.js';
import type { Message } from '../../src/core/index.js';

const at = '2026-01-01T00:00:00.000Z';
const msg = (seq: number, from: Message['from'], text: string): Message => ({ seq, from, text, at });
const sent = (text: string, replies: Message[] = [], accepted = true): SentMessage => ({ clientMessageId: `c-${text}`, text, replies: replies.map(({ seq, from, text }) => ({ seq, from, text })), accepted });

/** welcome, then 水费在哪交 → answer, 我的手机 13912345678 → answer. */
function clean(): { log: ConversationLog; transcript: Message[] } {
  const transcript = [msg(1, 'bot', '您好'), msg(2, 'user', '水费在哪交'), msg(3, 'bot', '可以在线交'), msg(4, 'user', '我的手机 13912345678'), msg(5, 'bot', '好的')];
  const log = { id: 'c1', kind: 'guide', opening: [transcript[0]!], sent: [sent('水费在哪交', [transcript[2]!]), sent('我的手机 13912345678', [transcript[4]!])] };
  return { log, transcript };
}

describe('bench:load audit', () => {
  it('accounts for a clean conversation, the masked number included', () => {
    const { log, transcript } = clean();
    transcript[3] = msg(4, 'user', '我的手机 139****5678');
    const c = auditConversation(log, transcript, [], (t) => t.replace(/(\d{3})\d{4}(\d{4})/, '$1****$2'));
    expect(c).toMatchObject({ sent: 2, stored: 2, lost: 0, duplicated: 0, seqFaults: 0, unanswered: 0, replyMismatches: 0 });
    expect(c.faults).toEqual([]);
  });

  it('finds a message stored other than the masker makes it', () => {
    const { log, transcript } = clean();
    transcript[3] = msg(4, 'user', '我的手机 139****5678');
    expect(auditConversation(log, transcript)).toMatchObject({ lost: 1, duplicated: 1 });
  });

  it('finds a message answered but not stored, and the replies the transcript lacks', () => {
    const { log, transcript } = clean();
    const c = auditConversation(log, [transcript[0]!, transcript[1]!, transcript[2]!]);
    expect(c).toMatchObject({ sent: 2, stored: 1, lost: 1, duplicated: 0, replyMismatches: 1 });
  });

  it('finds a message stored twice, and the seq that breaks the sequence', () => {
    const { log, transcript } = clean();
    const twice = [...transcript.slice(0, 2), msg(3, 'user', '水费在哪交'), ...transcript.slice(2).map((m) => ({ ...m, seq: m.seq + 1 }))];
    expect(auditConversation(log, twice)).toMatchObject({ lost: 0, duplicated: 1, unanswered: 1 });
    const gap = transcript.map((m) => (m.seq >= 4 ? { ...m, seq: m.seq + 1 } : m));
    expect(auditConversation(log, gap).seqFaults).toBe(2);
  });

  it('lets a refused message be stored once or not at all', () => {
    const { log, transcript } = clean();
    log.sent.splice(1, 0, sent('过户', [], false));
    expect(auditConversation(log, transcript)).toMatchObject({ sent: 2, refused: 1, lost: 0, duplicated: 0 });
  });

  it('finds an agent line missing or stored twice', () => {
    const { log, transcript } = clean();
    const withAgent = [...transcript, msg(6, 'agent', '您好 #a-1')];
    expect(auditConversation(log, withAgent, ['您好 #a-1', '收到 #a-2'])).toMatchObject({ agentSent: 2, agentLost: 1 });
    expect(auditConversation(log, [...withAgent, msg(7, 'agent', '您好 #a-1')], ['您好 #a-1']).duplicated).toBe(1);
  });
});
