// Where an archive's unpacked contents go once they pass the memory budget: one blob file in a
// private temp directory (mode 0700), created only when first needed and removed, with
// everything in it, on dispose. The tree's structure stays in memory (lib/archive/tree.ts).
import { KitError } from "../kit/errors.ts";
import type { NarContents } from "../hash/nar_format.ts";
import type { Spilled } from "./tree.ts";

/** Spilled contents are read back through this buffer size while hashing. */
const READ_CHUNK = 1024 * 1024;

/** Memory budget and blob file of one archive being hashed. */
export class Spill implements Disposable {
  #used = 0;
  #offset = 0;
  #dir: string | undefined;
  file: Deno.FsFile | undefined;
  readonly #limit: number;
  readonly #archive: string;
  readonly #onDir: (dir: string) => void;

  /**
   * `limit`: bytes of contents kept in memory. `onDir` learns the private directory as soon as
   * it exists, so the caller can remove it on Ctrl-C.
   */
  constructor(
    limit: number,
    archive: string,
    onDir: (dir: string) => void = () => {},
  ) {
    this.#limit = limit;
    this.#archive = archive;
    this.#onDir = onDir;
  }

  /** Whether `size` more bytes fit in memory (and counts them if so). */
  fits(size: number): boolean {
    if (this.#used + size > this.#limit) return false;
    this.#used += size;
    return true;
  }

  /** Bytes of the budget not yet taken. */
  get remaining(): number {
    return this.#limit - this.#used;
  }

  /**
   * The private temp directory, created on first use. Not being allowed to create it is a
   * one-line error, not a stack trace.
   */
  dir(): string {
    if (this.#dir === undefined) {
      try {
        this.#dir = Deno.makeTempDirSync({ prefix: "comfykit-unpack-" });
      } catch (e) {
        if (
          !(e instanceof Deno.errors.NotCapable ||
            e instanceof Deno.errors.PermissionDenied ||
            e instanceof Deno.errors.NotFound)
        ) throw e;
        throw new KitError(
          `Cannot unpack "${this.#archive}": its contents exceed the ${
            Math.round(this.#limit / 2 ** 20)
          } MiB memory limit and no private temp directory could be created (${
            e.message.replace(/\.$/, "")
          }): allow writing to the temp directory (TMPDIR, else /tmp)`,
        );
      }
      this.#onDir(this.#dir);
    }
    return this.#dir;
  }

  #open(): Deno.FsFile {
    this.file ??= Deno.openSync(`${this.dir()}/contents.bin`, {
      read: true,
      write: true,
      createNew: true,
      mode: 0o600,
    });
    return this.file;
  }

  /** Appends contents arriving in chunks; `done` says where they went. */
  writer(): { write(chunk: Uint8Array): void; done(): Spilled } {
    const file = this.#open();
    const offset = this.#offset;
    file.seekSync(offset, Deno.SeekMode.Start);
    return {
      write: (chunk) => {
        let done = 0;
        while (done < chunk.length) {
          done += file.writeSync(chunk.subarray(done));
        }
        this.#offset += chunk.length;
      },
      done: () => ({ offset, size: this.#offset - offset }),
    };
  }

  /** Spilled contents as the NAR writer reads them: streamed back in chunks. */
  contents(at: Spilled): Extract<NarContents, { read: unknown }> {
    const blob = this.file!;
    return {
      size: at.size,
      read(emit) {
        const buf = new Uint8Array(Math.min(at.size, READ_CHUNK));
        let done = 0;
        blob.seekSync(at.offset, Deno.SeekMode.Start);
        while (done < at.size) {
          const n = blob.readSync(
            buf.subarray(0, Math.min(buf.length, at.size - done)),
          );
          if (n === null) break;
          done += n;
          emit(buf.subarray(0, n));
        }
      },
    };
  }

  [Symbol.dispose](): void {
    this.file?.close();
    if (this.#dir) {
      try {
        Deno.removeSync(this.#dir, { recursive: true });
      } catch {
        // already gone
      }
    }
  }
}
