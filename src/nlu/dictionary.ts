import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KnowledgeBase } from '../knowledge/index.js';
import { normalize } from './normalize.js';

const require = createRequire(import.meta.url);

/** Words at least this frequent in the full dictionary are kept for everyday text around our words. */
const COMMON = 5;
/** Longest substring of the knowledge text looked up in a set; longer dictionary words are searched for. */
const SET_LEN = 8;
/** A word that never occurs in text: it carries the frequency of the dropped words, so every kept word keeps its weight. */
const PAD = '\u{F0000}';
/** Bump when the trimming changes: cached dictionaries of older versions are ignored. */
const DICT_VERSION = 'd1';

/** The segmenter's full dictionary (jieba's, about 350,000 words). */
export function fullDictionary(): Buffer {
  return readFileSync(join(require.resolve('@node-rs/jieba/dict'), '..', 'dict.txt'));
}

/**
 * jieba's dictionary trimmed to the words the knowledge base's texts contain, plus common words, with the
 * dropped words' frequency kept on one padding entry: the knowledge's own texts segment exactly as with the
 * full dictionary (a text's segmentation only uses words inside it, weighed against the same total), at a
 * fraction of the memory. Cached on disk by knowledge hash (NLU_CACHE_DIR, "off" disables the cache).
 */
export function dictionaryFor(kb: KnowledgeBase): Buffer {
  const dir = process.env.NLU_CACHE_DIR ?? join(tmpdir(), 'wsa-nlu-cache');
  const key = createHash('sha256').update(`${DICT_VERSION}:${COMMON}:${kb.hash}`).digest('hex').slice(0, 20);
  const file = join(dir, `dict-${key}.txt`);
  if (dir !== 'off') {
    try {
      return readFileSync(file);
    } catch {
      // not cached yet
    }
  }
  const trimmed = trimDictionary(fullDictionary(), knowledgeText(kb));
  if (dir !== 'off') {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, trimmed);
      renameSync(tmp, file);
    } catch {
      // a read-only disk only costs the next start the trimming time
    }
  }
  return trimmed;
}

/** Every text of the knowledge base, normalised as the analyzer normalises what it segments. */
export function knowledgeText(kb: KnowledgeBase): string {
  const raw = JSON.stringify([kb.utility, [...kb.items.values()], [...kb.flows.values()], kb.synonyms, kb.smalltalk, kb.intents]);
  return normalize(raw.replace(/["\\]/g, ' '));
}

/** Keeps the dictionary lines whose word occurs in `text` or is common; pads the total frequency. */
export function trimDictionary(full: Buffer, text: string): Buffer {
  const subs = new Set<string>();
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    let s = '';
    for (let n = 0; n < SET_LEN && i + n < chars.length; n++) subs.add((s += chars[i + n]));
  }
  const kept: string[] = [];
  let dropped = 0;
  for (const line of full.toString('utf8').split('\n')) {
    const [word, freq] = line.split(' ');
    if (!word || !freq) continue;
    const f = Number(freq);
    const len = [...word].length;
    if (f >= COMMON || len === 1 || (len <= SET_LEN ? subs.has(word) : text.includes(word))) kept.push(line);
    else dropped += f;
  }
  if (dropped > 0) kept.push(`${PAD} ${dropped} x`);
  return Buffer.from(kept.join('\n'));
}
