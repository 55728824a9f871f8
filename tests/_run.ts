// `deno task test`'s last step: the two test runs side by side, each in its own process. The
// parallel-safe files (`deno task test-parallel`) and the files that change the process's env or
// cwd (`deno task test-serial`, one file at a time) share no process state, so they need not wait
// for each other (issue 23: the serial run alone took ~20 s). The parallel run's report streams as
// it comes; the serial run's is held and printed after it, so the two never interleave and both
// are complete whichever fails (deno task's own `&` would kill the other run at the first failure).
// The exit code is the parallel run's, or the serial run's when the first passed.

const serial = new Deno.Command("deno", {
  args: ["task", "test-serial"],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
// Both of its streams, chunk by chunk in the order they came (a failure's text stays in place).
const held: {
  out: typeof Deno.stdout | typeof Deno.stderr;
  chunk: Uint8Array;
}[] = [];
const hold = Promise.all(
  ([[serial.stdout, Deno.stdout], [serial.stderr, Deno.stderr]] as const).map(
    async ([stream, out]) => {
      for await (const chunk of stream) held.push({ out, chunk });
    },
  ),
);
const parallel = await new Deno.Command("deno", {
  args: ["task", "test-parallel"],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
await hold;
for (const { out, chunk } of held) {
  for (let n = 0; n < chunk.length;) n += await out.write(chunk.subarray(n));
}
const serialStatus = await serial.status;
Deno.exit(parallel.code !== 0 ? parallel.code : serialStatus.code);
