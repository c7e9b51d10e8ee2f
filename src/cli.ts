import { createInterface } from 'node:readline';
import { loadConfig } from './config.js';
import { createCliChannel } from './channels/cli/index.js';
import { renderText } from './channels/render-text.js';
import { formatIssue, lintKnowledge, loadCatalog, loadKnowledge, unverifiedFigures } from './knowledge/index.js';
import { createClassifier } from './nlu/index.js';
import { createAssistant } from './main.js';
import { addAgent } from './agent/cli.js';
import { dataRekey } from './store/rekey-cli.js';

const USAGE = `usage: npm run -s cli -- <command>
  classify            read {"id","text"} JSON lines on stdin, write one decision per line
  ask "<text>"        print the reply a user would see to a first message
  chat                chat in the terminal (same engine, in-memory stores)
  kb lint [--catalog FILE]  check the knowledge base; prints file: field: problem
  kb lint --unverified      list every figure the source does not give (file: field: text), for the utility to confirm
  agent add <login> [--admin] --name <display name>   create or update a 96510 agent, --admin for an admin (password prompted, or one line on stdin)
  data rekey [--dry-run]  re-encrypt stored personal data under the current DATA_KEY (after a rotation); embedded SQLite: stop the server first`;

/** The terminal commands run on memory stores: the SQLite file may be held by a running `npm start` (exclusive lock). */
function cliConfig() {
  return { ...loadConfig(), REDIS_URL: undefined, STORE: 'memory' as const, LOG_LEVEL: 'silent' as const };
}

async function classify(): Promise<void> {
  const classifier = createClassifier(loadKnowledge(process.env.KNOWLEDGE_DIR ?? 'knowledge', process.env.FLOWS_DIR ?? 'flows'));
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let q: { id?: unknown; text?: unknown };
    try {
      q = JSON.parse(line);
    } catch {
      process.stderr.write(`skipped a line that is not JSON: ${line.slice(0, 60)}\n`);
      continue;
    }
    const u = classifier.classify(typeof q.text === 'string' ? q.text : '');
    process.stdout.write(`${JSON.stringify({ id: q.id ?? null, decision: u.decision, itemId: u.itemId, flowId: u.flowId, aspect: u.aspect, candidates: u.candidates })}\n`);
  }
}

async function ask(text: string): Promise<void> {
  const { service, stores } = await createAssistant(cliConfig());
  const { conversationId } = await service.start();
  const r = await service.send(conversationId, { text });
  console.log(renderText(r.messages, { maxTextChars: 0 }).map((m) => m.text).join('\n\n'));
  await stores.close();
}

async function chat(): Promise<void> {
  const { service, stores, bus, kb } = await createAssistant(cliConfig());
  await createCliChannel({ service, input: process.stdin, output: process.stdout, hotline: kb.utility.hotline }).start();
  await bus.close();
  await stores.close();
}

function lint(args: string[]): number {
  const i = args.indexOf('--catalog');
  const catalog = loadCatalog(i >= 0 ? args[i + 1] : 'knowledge/catalog.yaml');
  const dir = process.env.KNOWLEDGE_DIR ?? 'knowledge';
  const issues = lintKnowledge(dir, process.env.FLOWS_DIR ?? 'flows', catalog);
  if (args.includes('--unverified') && !issues.length) {
    const figures = unverifiedFigures(loadKnowledge(dir, process.env.FLOWS_DIR ?? 'flows'), dir, process.env.FLOWS_DIR ?? 'flows');
    for (const f of figures) console.log(`${f.file}: ${f.field}: ${f.text}`);
    console.log(`${figures.length} unverified figures`);
    return 0;
  }
  for (const issue of issues) console.log(formatIssue(issue));
  if (!issues.length) console.log('knowledge base ok');
  return issues.length ? 1 : 0;
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'classify') await classify();
  else if (cmd === 'ask' && rest.length) await ask(rest.join(' '));
  else if (cmd === 'chat') await chat();
  else if (cmd === 'kb' && rest[0] === 'lint') return lint(rest.slice(1));
  else if (cmd === 'agent' && rest[0] === 'add' && rest[1]) return addAgent(rest.slice(1));
  else if (cmd === 'data' && rest[0] === 'rekey') return dataRekey(rest.slice(1));
  else {
    console.error(USAGE);
    return 2;
  }
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
