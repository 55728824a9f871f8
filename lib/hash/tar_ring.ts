// The ring that lib/hash/nar_tar_worker.ts fills from tar's FIFO and lib/hash/nar_tar_fifo.ts
// hashes from: slots in one SharedArrayBuffer, and control words in another that both threads
// read and write with Atomics.

/** 8 slots of 1 MiB (smaller slots measured slower). */
const SLOTS = 8, SIZE = 1 << 20;
/**
 * Control words: slots filled, slots consumed, the reader's state, a counter of the reader's
 * events (the main thread waits on it), then each slot's length.
 */
export const HEAD = 0, TAIL = 1, STATE = 2, EVENTS = 3, LENGTHS = 4;
/** The reader's states; 0 is "not yet open". */
export const OPEN = 1, EOF = 2, FAILED = 3, ABORT = 4;

export interface Ring {
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
  slots: number;
  size: number;
}

export function newRing(): Ring {
  return {
    data: new SharedArrayBuffer(SLOTS * SIZE),
    control: new SharedArrayBuffer(4 * (LENGTHS + SLOTS)),
    slots: SLOTS,
    size: SIZE,
  };
}

/** Bumps EVENTS and wakes its waiter: every new slot and state change does. */
export function signal(c: Int32Array): void {
  Atomics.add(c, EVENTS, 1);
  Atomics.notify(c, EVENTS);
}

/** Marks the ring stopped, if the reader has not ended it, and wakes both sides. */
export function stop(ring: Ring): void {
  const c = new Int32Array(ring.control);
  const state = Atomics.load(c, STATE);
  if (state === EOF || state === FAILED) return;
  // A reader waiting for a free slot sees TAIL move, then ABORT; one in a read stops at the
  // end of the FIFO (tar killed, the held end closed). A readerOpened() still waiting returns.
  Atomics.store(c, STATE, state === 0 ? FAILED : ABORT);
  Atomics.add(c, TAIL, ring.slots);
  Atomics.notify(c, TAIL);
  signal(c);
}
