// Reader thread for lib/hash/nar_tar_fifo.ts: reads tar's archive from a FIFO with blocking
// reads into a ring of shared slots (tar_ring.ts) while the main thread parses and hashes the
// slots already filled. A child's stdout pipe is read one 64 KiB async op at a time, which
// slowed tar by ~30%; a blocking read of a FIFO keeps `cat`'s pace. Not a public module.
import {
  ABORT,
  EOF,
  FAILED,
  HEAD,
  LENGTHS,
  OPEN,
  type Ring,
  signal,
  STATE,
  TAIL,
} from "./tar_ring.ts";

interface Request extends Ring {
  fifo: string;
}

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
};

scope.onmessage = (e) => {
  const { fifo, data, control, slots, size } = e.data;
  const c = new Int32Array(control);
  try {
    using file = Deno.openSync(fifo, { read: true });
    Atomics.store(c, STATE, OPEN);
    signal(c);
    let head = 0;
    let eof = false;
    while (!eof) {
      let tail;
      while (head - (tail = Atomics.load(c, TAIL)) >= slots) {
        if (Atomics.load(c, STATE) === ABORT) return;
        Atomics.wait(c, TAIL, tail);
      }
      if (Atomics.load(c, STATE) === ABORT) return;
      const slot = new Uint8Array(data, (head % slots) * size, size);
      let fill = 0;
      while (fill < size) {
        const n = file.readSync(slot.subarray(fill));
        if (n === null) {
          eof = true;
          break;
        }
        fill += n;
      }
      c[LENGTHS + head % slots] = fill;
      Atomics.store(c, HEAD, ++head);
      if (eof) Atomics.store(c, STATE, EOF);
      signal(c);
    }
  } catch {
    Atomics.store(c, STATE, FAILED);
    signal(c);
  }
};
