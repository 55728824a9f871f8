// Reader worker for lib/hash/nar.ts: reads batches of regular files (lstat, readFile) and
// sends back their executable bits, sizes and contents, so that two threads do the system calls
// while the main thread hashes. Files larger than `small` are only lstat'ed (the main thread
// streams them). Not a public module.

interface Request {
  id: number;
  paths: string[];
  small: number;
}

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

class Changed extends Error {
  override name = "Changed";
}

scope.onmessage = (e) => {
  const { id, paths, small } = e.data;
  const flags = new Uint8Array(paths.length);
  const sizes = new Float64Array(paths.length);
  let data = new Uint8Array(1024 * 1024);
  let pos = 0;
  let i = 0;
  try {
    for (; i < paths.length; i++) {
      // lstat + readFile: two Deno ops instead of open, fstat, read and close. Each op that
      // opens a path pays a permission check that resolves every folder of it, so fewer
      // opening ops is what makes many small files fast.
      const info = Deno.lstatSync(paths[i]!);
      if (!info.isFile) throw new Changed();
      sizes[i] = info.size;
      flags[i] = (info.mode ?? 0) & 0o100 ? 1 : 0;
      if (info.size > small) {
        flags[i]! |= 2;
        continue;
      }
      const contents = Deno.readFileSync(paths[i]!);
      if (contents.length !== info.size) throw new Changed();
      if (pos + info.size > data.length) {
        const bigger = new Uint8Array(
          Math.max(data.length * 2, pos + info.size),
        );
        bigger.set(data.subarray(0, pos));
        data = bigger;
      }
      data.set(contents, pos);
      pos += info.size;
    }
  } catch (err) {
    const error = err instanceof Error
      ? { path: paths[i], name: err.name, message: err.message }
      : { path: paths[i], name: "Error", message: String(err) };
    scope.postMessage({ id, error });
    return;
  }
  scope.postMessage({ id, flags, sizes, data: data.subarray(0, pos) }, [
    data.buffer,
  ]);
};
