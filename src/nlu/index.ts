export { normalize, chineseNumber, convertNumerals } from './normalize.js';
export { Analyzer, bigramsOf, type Analysis } from './analyzer.js';
export { createClassifier, type Classifier, type Understanding, type Decision } from './classifier.js';
export { DEFAULT_THRESHOLDS, type Thresholds } from './decide.js';
export type { Candidate, TargetKey } from './retriever.js';
export { createEmbedder, DenseIndex, reciprocalRankFusion, type Embedder, type ScoredKey } from './embeddings.js';
export { denseDocs, fuseDense } from './dense.js';
