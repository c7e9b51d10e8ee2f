// Child process for the kill -9 test: commits turns on SQLite (a DATA_DIR) or Redis (a URL) as fast as it can until killed.
import { createRedisStores, createSqliteStores } from '../../src/store/index.js';

const [where, conversationId, prefix] = process.argv.slice(2) as [string, string, string];
const stores = where.startsWith('redis://') ? await createRedisStores(where, { prefix }) : createSqliteStores({ dataDir: where, sweepIntervalMs: 0 });
for (;;) {
  const step = ((await stores.sessions.get<{ step: number }>(conversationId))?.state.step ?? 0) + 1;
  const at = new Date().toISOString();
  const ref = await stores.applications.nextRef('20261201');
  await stores.commitTurn({
    conversationId,
    session: { schemaVersion: 1, state: { step }, updatedAt: at },
    messages: [{ from: 'user', text: `u${step}`, at }, { from: 'bot', text: `b${step}`, at }],
    applications: step % 3 === 0 ? [{ ref, runId: `run-${step}`, flowId: 'f', title: 't', conversationId, answers: { step }, fields: [], items: [], checklist: [], mobile: '13800000000', status: 'submitted', submittedAt: at, dueDate: '2026-12-04', timeLimit: { value: 1, unit: '工作日' }, nextSteps: [] }] : [],
    clientMessageId: `cm-${step}`,
  });
  if (step === 1) process.stdout.write('started\n');
}
