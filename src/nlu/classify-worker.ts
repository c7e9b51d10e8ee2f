// A classifier thread of the pool (pool.ts): builds its own classifier from the knowledge folders, then answers
// { id, text } requests one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { loadKnowledge } from '../knowledge/index.js';
import { createClassifier } from './classifier.js';
import type { WorkerMessage } from './pool.js';

const { knowledgeDir, flowsDir } = workerData as { knowledgeDir: string; flowsDir: string };
const kb = loadKnowledge(knowledgeDir, flowsDir);
const classifier = createClassifier(kb);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
parentPort!.on('message', ({ id, text }: { id: number; text: string }) => {
  try {
    post({ type: 'understood', id, u: classifier.classify(text) });
  } catch (err) {
    post({ type: 'failed', id, error: err instanceof Error ? err.message : String(err) });
  }
});
post({ type: 'ready', hash: kb.hash });
