import { createWebChannel } from '../../src/channels/web/index.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger, type Message } from '../../src/core/index.js';
import { createMemoryBus } from '../../src/delivery/index.js';
import { buildServer } from '../../src/server/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { listen, Widget } from '../server/web-helpers.js';
import { channelContract, seenOf, type Seen } from './contract.js';

/** The widget's side: REST to open the conversation, then the socket for everything else. */
channelContract('web (widget socket)', async ({ kb, classifier }) => {
  const stores = createMemoryStores();
  const bus = createMemoryBus();
  const logger = createLogger('silent');
  const service = createConversationService({ kb, classifier, stores, logger, bus });
  const adapter = createWebChannel({ service, bus });
  const app = await buildServer({ service, stores, logger, channels: [adapter] });
  const base = await listen(app);
  const opened = await (await fetch(`${base}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json();
  const widget = await Widget.open(base, opened.conversationId, opened.token);
  await widget.untilSeq(1);
  let last: Message[] = [];
  let n = 0;

  /** Sends one event and waits until the turn's replies arrived (the bot or system answered after the user's message). */
  async function turn(event: object): Promise<Seen> {
    const from = widget.messages.length;
    widget.send({ type: 'send', clientMessageId: `c${++n}`, ...event });
    await widget.until((w) => {
      const fresh = w.messages.slice(from);
      const user = fresh.findIndex((m) => m.from === 'user');
      return user >= 0 && fresh.slice(user + 1).some((m) => m.from !== 'user');
    });
    // The turn's messages come in one publish; a short quiet period shows nothing more is on its way.
    await new Promise((r) => setTimeout(r, 30));
    last = widget.messages.slice(from);
    return seenOf(last);
  }

  return {
    adapter,
    service,
    say: (text) => turn({ text }),
    press(title) {
      const button = last.flatMap((m) => m.quickReplies ?? []).find((q) => title.test(q.title));
      if (!button) throw new Error(`no button ${title}`);
      return turn({ postback: button.postback });
    },
    conversationId: () => opened.conversationId,
    async received(match) {
      const from = widget.messages.length;
      await widget.until((w) => w.messages.slice(from).some((m) => match.test(m.text)));
      return widget.messages.slice(from).find((m) => match.test(m.text))!.text;
    },
    async close() {
      widget.close();
      await app.close();
    },
  };
});
