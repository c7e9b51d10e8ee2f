import { PassThrough } from 'node:stream';
import { createCliChannel, CLI_PROMPT } from '../../src/channels/cli/index.js';
import { createChannelRegistry } from '../../src/channels/registry.js';
import { createConversationService } from '../../src/conversation/index.js';
import { createLogger } from '../../src/core/index.js';
import { createMemoryStores } from '../../src/store/index.js';
import { channelContract, menuNumber, type Seen } from './contract.js';

/** The terminal chat, through its real read–answer loop on piped input and output. */
channelContract('cli (terminal chat)', async ({ kb, classifier }) => {
  const channels = createChannelRegistry();
  const service = createConversationService({ kb, classifier, stores: createMemoryStores(), logger: createLogger('silent'), channels });
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  const waiters: (() => void)[] = [];
  output.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    for (const w of waiters.splice(0)) w();
  });
  const adapter = createCliChannel({ service, input, output });
  channels.add(adapter);
  const running = adapter.start();

  async function until(done: () => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`terminal wait timed out; screen: ${screen.slice(-400)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }
  await until(() => screen.includes(CLI_PROMPT));
  let last: string[] = [];

  /** Types a line and reads what is printed until the next prompt. */
  async function type(line: string): Promise<Seen> {
    const from = screen.length;
    input.write(`${line}\n`);
    await until(() => screen.slice(from).includes(CLI_PROMPT));
    const printed = screen.slice(from, screen.indexOf(CLI_PROMPT, from)).trim();
    last = printed.split(/\n{2,}(?=\S)/);
    return { texts: [printed], buttons: [], cards: [] };
  }

  return {
    adapter,
    service,
    say: type,
    press: (title) => type(menuNumber(last, title)),
    conversationId: () => adapter.conversationId,
    async received(match) {
      const from = screen.length;
      await until(() => match.test(screen.slice(from)));
      return screen.slice(from);
    },
    async close() {
      input.end('/quit\n');
      await running;
    },
  };
});
