import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fillMessage, type Message, type Reply } from '../../core/index.js';
import type { ConversationService } from '../../conversation/index.js';
import { lastQuickReplies, pickNumbered, renderText } from '../render-text.js';
import type { ChannelAdapter, ChannelCapabilities } from '../types.js';

/** A terminal: numbered menus, cards as text, no length limit. */
export const CLI_CAPABILITIES: ChannelCapabilities = { buttons: false, cards: false, maxPayloadBytes: 200, maxTextChars: 0, live: false };

/** The prompt printed before each user line. */
export const CLI_PROMPT = '\n你> ';

/** Options of the terminal chat. */
export interface CliChannelOptions {
  service: ConversationService;
  input: Readable;
  output: Writable;
  /** The conversation to continue; a new `cli:<uuid>` by default. */
  conversationId?: string;
  /** Fills `{hotline}` in error lines (STORE_UNAVAILABLE, INTERNAL). */
  hotline?: string;
}

/** The terminal chat as a channel, with its read–answer loop. */
export interface CliChannel extends ChannelAdapter<string> {
  /** Opens the conversation, prints the welcome, answers each line until /quit or the end of input. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The conversation this terminal talks in (set once started). */
  readonly conversationId: string;
}

/** One reply as terminal text: the author first for agent messages. */
function withAuthor(r: Reply): Reply {
  return r.author ? { ...r, text: `[${r.author}] ${r.text}` } : r;
}

/** Creates the terminal chat adapter. */
export function createCliChannel(opts: CliChannelOptions): CliChannel {
  const { service, output } = opts;
  const conversationId = opts.conversationId ?? `cli:${randomUUID()}`;
  let transcript: Message[] = [];
  let rl: ReturnType<typeof createInterface> | undefined;

  const render = (replies: Reply[]) => renderText(replies.map(withAuthor), { maxTextChars: CLI_CAPABILITIES.maxTextChars, buttons: false, cards: false }).map((m) => m.text);
  const print = (messages: Message[]) => {
    transcript = [...transcript, ...messages];
    const shown = messages.filter((m) => m.from !== 'user');
    if (shown.length) output.write(`\n${render(shown).join('\n\n')}\n`);
  };

  /** Answers one typed line; a number picks the matching item of the last menu. */
  async function answer(line: string): Promise<void> {
    const text = line.trim();
    if (!text) return;
    const postback = pickNumbered(text, lastQuickReplies(transcript));
    try {
      const r = await service.send(conversationId, postback ? { postback } : { text }, { clientMessageId: randomUUID() });
      transcript.push({ seq: (r.messages[0]?.seq ?? 1) - 1, from: 'user', text, at: new Date().toISOString() });
      print(r.messages);
    } catch (err) {
      output.write(`\n（出错了：${fillMessage((err as Error).message, { hotline: opts.hotline })}）\n`);
    }
  }

  return {
    name: 'cli',
    capabilities: CLI_CAPABILITIES,
    conversationId,
    render,
    async send(id, messages) {
      if (id === conversationId) print(messages);
    },
    async start() {
      const opened = await service.start({ conversationId, channel: 'cli' });
      print(opened.created ? opened.messages : await service.history(conversationId, 0, 500));
      rl = createInterface({ input: opts.input, crlfDelay: Infinity, terminal: false });
      output.write(CLI_PROMPT);
      for await (const line of rl) {
        if (/^\/(quit|exit)$/.test(line.trim())) break;
        await answer(line);
        output.write(CLI_PROMPT);
      }
      rl.close();
    },
    async stop() {
      rl?.close();
    },
  };
}
