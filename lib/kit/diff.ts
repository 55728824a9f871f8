// Unified diffs (`diff -u` format) of two texts, for --dry-run output. Lines are matched with
// Myers' O(ND) algorithm, so the edit script is minimal; hunks carry three lines of context and
// are merged when their contexts touch, as GNU diff does.
//
//   unifiedDiff(oldText, newText, "a/.flox/pkgs/comfyui.nix", "b/.flox/pkgs/comfyui.nix")

type Op = { kind: " " | "-" | "+"; line: string };

/**
 * The unified diff turning `a` into `b`, with `---`/`+++` headers naming `aName`/`bName`;
 * the empty string when the texts are equal. A last line without a newline gets GNU's
 * "\ No newline at end of file" marker.
 */
export function unifiedDiff(
  a: string,
  b: string,
  aName: string,
  bName: string,
  context = 3,
): string {
  if (a === b) return "";
  const ops = diffLines(splitLines(a), splitLines(b));
  let out = `--- ${aName}\n+++ ${bName}\n`;
  for (const hunk of hunks(ops, context)) out += hunk;
  return out;
}

/** Splits text into lines, each keeping its "\n" (the last may lack one). */
export function splitLines(text: string): string[] {
  const lines = text.split("\n").map((l) => l + "\n");
  const last = lines.pop()!;
  if (last !== "\n") lines.push(last.slice(0, -1));
  return lines;
}

/** The shortest edit script from `a` to `b` (Myers 1986, greedy forward with backtracking). */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length, m = b.length, max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
        ? v[offset + k + 1]!
        : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  // Walk back through the saved V arrays, collecting the path from the end.
  const ops: Op[] = [];
  let x = n, y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK =
      k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!)
        ? k + 1
        : k - 1;
    const prevX = vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: " ", line: a[--x]! });
      y--;
    }
    if (prevK === k + 1) ops.push({ kind: "+", line: b[--y]! });
    else ops.push({ kind: "-", line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: " ", line: a[--x]! });
    y--;
  }
  return ops.reverse();
}

function hunks(ops: Op[], context: number): string[] {
  const changes: number[] = [];
  ops.forEach((op, i) => op.kind !== " " && changes.push(i));
  const groups: [number, number][] = [];
  for (const i of changes) {
    const g = groups[groups.length - 1];
    // Merge when the unchanged run between two changes fits in both contexts.
    if (g && i - g[1] - 1 <= 2 * context) g[1] = i;
    else groups.push([i, i]);
  }
  // Line numbers before each op, in a and in b.
  const aLine: number[] = [], bLine: number[] = [];
  let la = 0, lb = 0;
  for (const op of ops) {
    aLine.push(la);
    bLine.push(lb);
    if (op.kind !== "+") la++;
    if (op.kind !== "-") lb++;
  }
  return groups.map(([first, last]) => {
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    let aCount = 0, bCount = 0, body = "";
    for (let i = from; i <= to; i++) {
      const op = ops[i]!;
      if (op.kind !== "+") aCount++;
      if (op.kind !== "-") bCount++;
      body += op.kind + op.line;
      if (!op.line.endsWith("\n")) body += "\n\\ No newline at end of file\n";
    }
    return `@@ -${range(aLine[from]!, aCount)} +${
      range(bLine[from]!, bCount)
    } @@\n${body}`;
  });
}

function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}
