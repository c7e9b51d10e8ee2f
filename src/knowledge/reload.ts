import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/index.js';
import { loadCatalog } from './catalog.js';
import { lintKnowledge } from './lint.js';
import { formatIssue, readKnowledge, type KnowledgeBase } from './load.js';

/** What a reload did. */
export type ReloadOutcome =
  | { status: 'applied'; hash: string }
  | { status: 'unchanged'; hash: string }
  | { status: 'refused'; problems: string[] };

/** Tells the other instances of a deployment that the knowledge changed (Redis pub/sub in Redis mode). */
export interface KnowledgeSync {
  /** Announces the hash now served. */
  publish(hash: string): Promise<void>;
  /** Calls `onHash` with every hash another instance announces. */
  subscribe(onHash: (hash: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link watchKnowledge}. */
export interface KnowledgeWatchOptions {
  knowledgeDir: string;
  flowsDir: string;
  /** Quiet time after the last change before reloading (editors write a file in several steps). */
  debounceMs?: number;
  /** The hash of the knowledge being served. */
  currentHash: () => string;
  /** Swaps a validated knowledge base in (builds the classifier, calls the service); a throw refuses the reload. */
  apply: (kb: KnowledgeBase) => Promise<void> | void;
  log: Logger;
  /** Redis mode: announce applied hashes, and reload when another instance announces one. */
  sync?: KnowledgeSync;
  /** Called with each outcome (metrics). */
  onOutcome?: (o: ReloadOutcome) => void;
}

/** A running knowledge watcher. */
export interface KnowledgeWatcher {
  /** Reads, validates and applies the files now; one reload runs at a time. */
  reload(reason: string): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

/**
 * Reads and validates the knowledge: the loader's schema and reference checks, then the lint against
 * `<knowledgeDir>/catalog.yaml` when there is one. Returns the knowledge base, or every problem as `file: field: problem`.
 */
export function validateKnowledge(knowledgeDir: string, flowsDir: string): { kb: KnowledgeBase } | { problems: string[] } {
  const { kb, issues } = readKnowledge(knowledgeDir, flowsDir);
  if (!kb || issues.length) return { problems: issues.map(formatIssue) };
  const catalogPath = join(knowledgeDir, 'catalog.yaml');
  if (existsSync(catalogPath)) {
    let lint;
    try {
      lint = lintKnowledge(knowledgeDir, flowsDir, loadCatalog(catalogPath));
    } catch (err) {
      return { problems: [`${catalogPath}: (file): ${(err as Error).message.split('\n')[0]}`] };
    }
    if (lint.length) return { problems: lint.map(formatIssue) };
  }
  return { kb };
}

/** Watches knowledge/ and flows/ (fs.watch, debounced) and swaps in every valid edit; an invalid one is logged and refused. */
export async function watchKnowledge(opts: KnowledgeWatchOptions): Promise<KnowledgeWatcher> {
  const { log } = opts;
  const debounceMs = opts.debounceMs ?? 500;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function reloadOnce(reason: string, announce: boolean): Promise<ReloadOutcome> {
    const v = validateKnowledge(opts.knowledgeDir, opts.flowsDir);
    let outcome: ReloadOutcome;
    if ('problems' in v) {
      outcome = { status: 'refused', problems: v.problems };
      log.error({ reason, problems: v.problems }, `knowledge reload refused, the previous version keeps serving:\n${v.problems.join('\n')}`);
    } else if (v.kb.hash === opts.currentHash()) {
      outcome = { status: 'unchanged', hash: v.kb.hash };
    } else {
      try {
        await opts.apply(v.kb);
        outcome = { status: 'applied', hash: v.kb.hash };
        log.info({ reason, knowledgeHash: v.kb.hash }, 'knowledge reloaded');
        if (announce && opts.sync) await opts.sync.publish(v.kb.hash).catch((err: Error) => log.warn({ err: err.message }, 'knowledge hash not announced'));
      } catch (err) {
        outcome = { status: 'refused', problems: [(err as Error).message] };
        log.error({ reason, err: (err as Error).message }, 'knowledge reload refused, the previous version keeps serving');
      }
    }
    opts.onOutcome?.(outcome);
    return outcome;
  }

  const reload = (reason: string, announce = true): Promise<ReloadOutcome> => {
    const next = chain.then(() => reloadOnce(reason, announce));
    chain = next.catch(() => undefined);
    return next;
  };

  const schedule = (file: string) => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(`changed: ${file}`), debounceMs);
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set([opts.knowledgeDir, opts.flowsDir])) {
    try {
      const w = watch(dir, { recursive: true }, (_event, file) => {
        if (!file || /\.ya?ml$/.test(String(file))) schedule(String(file ?? dir));
      });
      w.on('error', (err) => log.warn({ err: err.message, dir }, 'knowledge watch failed; edits need a restart'));
      watchers.push(w);
    } catch (err) {
      log.warn({ err: (err as Error).message, dir }, 'knowledge watch unavailable; edits need a restart');
    }
  }
  // Another instance reloaded: read the (shared) files here too, without announcing again.
  await opts.sync?.subscribe((hash) => {
    if (!closed && hash !== opts.currentHash()) void reload(`announced: ${hash}`, false);
  });

  return {
    reload,
    async close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      await chain;
      await opts.sync?.close();
    },
  };
}

/** Knowledge announcements on the Redis channel `<prefix>:knowledge`. */
export async function createRedisKnowledgeSync(url: string, prefix: string, log: Logger): Promise<KnowledgeSync> {
  const { createClient } = await import('redis');
  const channel = `${prefix}:knowledge`;
  const pub = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 2_000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 3_000) } });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err: Error) => log.warn({ err: err.message }, 'knowledge sync: Redis error'));
  await Promise.all([pub.connect(), sub.connect()]);
  return {
    async publish(hash) {
      await pub.publish(channel, hash);
    },
    async subscribe(onHash) {
      await sub.subscribe(channel, (message: string) => onHash(message));
    },
    async close() {
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
