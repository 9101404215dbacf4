/**
 * Folded stacks ("root;caller;leaf count" lines, as labs/03's stackfold.js and
 * stackvis write them) turned into what a checker judges and the page draws:
 * which function is hot, and a compact tree for the inline flame graph.
 */

export type Folded = Map<string, number>;

export function parseFolded(text: string): Folded {
  const out: Folded = new Map();
  for (const line of text.split('\n')) {
    const m = /^(.*) (\d+)$/.exec(line.trim());
    if (!m || !m[1]) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

export function totalSamples(f: Folded): number {
  let n = 0;
  for (const v of f.values()) n += v;
  return n;
}

/** "Visitors.isNew report.js:47" -> "Visitors.isNew": the line moves when a student edits the file. */
export function functionName(frame: string): string {
  return frame.replace(/ \S+:\d+$/, '');
}

export interface FrameShare {
  name: string;
  samples: number;
  share: number;
}

/**
 * For each sample, the deepest frame that belongs to the app (`isApp`), by function
 * name: "where in my code was the CPU". Samples with no app frame count as "(other)".
 */
export function appSelfShares(f: Folded, isApp: (frame: string) => boolean): FrameShare[] {
  const counts = new Map<string, number>();
  const total = totalSamples(f);
  for (const [stack, n] of f) {
    const frames = stack.split(';');
    let name = '(not in the app)';
    for (let i = frames.length - 1; i >= 0; i--) {
      if (isApp(frames[i])) {
        name = functionName(frames[i]);
        break;
      }
    }
    counts.set(name, (counts.get(name) ?? 0) + n);
  }
  return [...counts]
    .map(([name, samples]) => ({ name, samples, share: total ? samples / total : 0 }))
    .sort((a, b) => b.samples - a.samples);
}

/** A flame graph node: name, samples (value), children. Short keys keep check results small. */
export interface FlameNode {
  n: string;
  v: number;
  c?: FlameNode[];
}

export interface FlameGraphData {
  kind: 'flamegraph';
  title: string;
  unit: 'samples';
  root: FlameNode;
}

/**
 * Build the tree, dropping frames under `minShare` of all samples (they are invisible
 * in a flame graph anyway) so a check result stays a few KB.
 */
export function flameTree(f: Folded, title: string, minShare = 0.005): FlameGraphData {
  const root: FlameNode = { n: 'all', v: 0, c: [] };
  for (const [stack, n] of f) {
    root.v += n;
    let node = root;
    for (const frame of stack.split(';')) {
      node.c = node.c ?? [];
      let child = node.c.find((c) => c.n === frame);
      if (!child) {
        child = { n: frame, v: 0 };
        node.c.push(child);
      }
      child.v += n;
      node = child;
    }
  }
  const min = root.v * minShare;
  const prune = (node: FlameNode): void => {
    if (!node.c) return;
    node.c = node.c.filter((c) => c.v >= min).sort((a, b) => a.n.localeCompare(b.n));
    node.c.forEach(prune);
    if (!node.c.length) delete node.c;
  };
  prune(root);
  return { kind: 'flamegraph', title, unit: 'samples', root };
}
