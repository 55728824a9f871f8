// Worker for lib/hash/flat.ts: hashes the files it is sent, one at a time. Not a public module.
import { tryHashFile } from "./flat.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<{ id: number; path: string }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { id, path } = e.data;
  scope.postMessage({ id, result: tryHashFile(path) });
};
