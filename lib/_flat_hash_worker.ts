// Worker for lib/_flat_hash.ts: hashes the files it is sent, one at a time. Not a public module.
import { tryHashFile } from "./_flat_hash.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<{ id: number; path: string }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { id, path } = e.data;
  scope.postMessage({ id, result: tryHashFile(path) });
};
