import { maskValue, type Masker, type Message } from '../core/index.js';
import type { KnowledgeBase } from '../knowledge/index.js';
import type { Stores } from '../store/index.js';
import type { SecretField } from './types.js';

/** The parts of the dialogue state the packet reads (kept loose: the engine's state is its own). */
interface DialogueView {
  itemId?: string;
  flow?: { id: string; answers?: Record<string, unknown> };
  /** The application in progress when the conversation was handed over (kept to resume). */
  suspended?: { id: string; answers?: Record<string, unknown> };
  applications?: string[];
}

/** What the summary is built from. */
export interface SummaryInput {
  kb: KnowledgeBase;
  stores: Stores;
  mask: Masker;
  conversationId: string;
  dialogue: unknown;
  /** The message of this turn (not yet in the transcript), already masked. */
  current?: string;
  reasonLabel: string;
  /** The engine's own note on the effect. */
  note?: string;
  /** Items whose guide the bot answered in this conversation. */
  seen?: string[];
}

/** The summary paragraph, the item, flow and application, and the revealable personal numbers. */
export interface PacketParts {
  summary: string;
  itemId?: string;
  flowId?: string;
  applicationRef?: string;
  secrets: SecretField[];
  raw: Record<string, string>;
}

const POSTBACK = /^[a-z][a-z-]*(:[\w.-]+)+$/;
const clip = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n).join('')}…` : s);

/** Builds the one-paragraph summary an agent reads before answering, so the user need not repeat themselves. */
export async function buildPacketParts(input: SummaryInput): Promise<PacketParts> {
  const { kb, stores, mask } = input;
  const d = (input.dialogue ?? {}) as DialogueView;
  const history = await stores.transcripts.list(input.conversationId).catch((): Message[] => []);
  const asked = [...history.filter((m) => m.from === 'user').map((m) => m.text), ...(input.current ? [input.current] : [])]
    // Button presses are stored as their postback (`item:<id>`, `handoff:none`): not something the user wrote.
    .filter((t) => t.trim() && !POSTBACK.test(t.trim()))
    .slice(0, 3)
    .map((t) => `“${clip(t, 60)}”`);
  const guides = [...new Set([
    ...(input.seen ?? []).flatMap((id) => (kb.items.get(id) ? [kb.items.get(id)!.title] : [])),
    ...history.flatMap((m) => (m.from === 'bot' && m.card?.type === 'guide' ? [m.card.title] : [])),
  ])];
  const current = d.flow ?? d.suspended;
  const flow = current ? kb.flows.get(current.id) : undefined;
  const secrets: SecretField[] = [];
  const raw: Record<string, string> = {};
  const answers = flow
    ? flow.questions
        .filter((s) => current!.answers && s.id in current!.answers!)
        .map((s) => {
          const value = String(current!.answers![s.id]);
          if (s.sensitive || s.type === 'mobile' || s.type === 'id-card' || s.type === 'uscc' || s.type === 'account-number') {
            const name = `flow.${s.id}`;
            secrets.push({ name, label: s.label, masked: maskValue(value, 3, 4) });
            raw[name] = value;
            return `${s.label}=${maskValue(value, 3, 4)}`;
          }
          return `${s.label}=${mask(clip(value, 30))}`;
        })
    : [];
  const applicationRef = d.applications?.at(-1);
  if (applicationRef) {
    const app = await stores.applications.get(applicationRef).catch(() => null);
    if (app?.mobile) {
      secrets.push({ name: 'application.mobile', label: `办件 ${app.ref} 手机号`, masked: maskValue(app.mobile, 3, 4) });
      raw['application.mobile'] = app.mobile;
    }
  }
  const item = d.itemId ? kb.items.get(d.itemId) : undefined;
  const parts = [
    asked.length ? `用户问：${asked.join('、')}` : '',
    item ? `事项：${item.title}` : '',
    flow ? `办理中：${flow.title}${answers.length ? `（已答：${answers.join('，')}）` : '（尚未作答）'}` : '',
    guides.length ? `已看过指南：${guides.join('、')}` : '',
    applicationRef ? `办件编号：${applicationRef}` : '',
    `转人工原因：${input.reasonLabel}`,
    input.note && !input.note.startsWith('原因：') ? clip(input.note, 80) : '',
  ].filter(Boolean);
  return {
    summary: mask(`${parts.join('；')}。`),
    ...(item ? { itemId: item.id } : {}),
    ...(flow ? { flowId: flow.id } : {}),
    ...(applicationRef ? { applicationRef } : {}),
    secrets,
    raw,
  };
}
