import * as path from 'path';
/** The repository root (this file runs from dist/test/bench/lib). */
export const REPO_ROOT_FOR_BENCH = path.resolve(__dirname, '..', '..', '..', '..');
