// `deno task test` runs most test files with `deno test --parallel`, whose workers share one
// process: its environment and working directory. A file that changes either (Deno.env.set,
// Deno.env.delete, Deno.chdir) would leak into files running beside it (a fake `nix` on PATH, a
// fixture server's URL in COMFYKIT_PYPI_URL), so those files run afterwards, one at a time.
// This test keeps deno.json's two lists in step with the files; deno test runs with --no-check
// because `deno check` (every file, tests included) has type-checked them just before.
import assert from "node:assert/strict";
import { ROOT, run, testFiles, tmp } from "../_helpers.ts";

const PROCESS_STATE = /\bDeno\.(env\.(set|delete)|chdir)\(/;

/** The test files of the parallel run's --ignore and of the serial run, from deno.json's tasks. */
export function testGroups(
  tasks: Record<string, { command: string }>,
): { ignored: string[]; serial: string[] } {
  const parallel = tasks["test-parallel"]!.command;
  const serial = tasks["test-serial"]!.command;
  assert.match(parallel, /^deno test .*--parallel/);
  assert.match(serial, /^deno test /);
  assert.doesNotMatch(serial, /--parallel/);
  const ignore = /--ignore=(\S+)/.exec(parallel)?.[1] ?? "";
  return {
    ignored: ignore.split(",").filter((s) => s !== ""),
    serial: serial.split(/\s+/).filter((w) => /^tests\/.*_test\.ts$/.test(w)),
  };
}

Deno.test("test files that change the process's env or cwd run serially, the rest in parallel", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const { ignored, serial } = testGroups(config.tasks);
  assert.deepEqual(
    ignored,
    serial,
    "the parallel run ignores exactly the serial files",
  );
  const all = testFiles();
  for (const f of serial) {
    assert.ok(all.includes(f), `${f} in deno.json's test task is no test file`);
  }
  const needSerial: string[] = [];
  for (const file of testFiles()) {
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    if (PROCESS_STATE.test(text)) needSerial.push(file);
  }
  needSerial.sort();
  for (const f of needSerial) {
    assert.ok(
      serial.includes(f),
      `${f} changes the process's env or cwd: add it to the serial run (and the --ignore list) of deno.json's test task`,
    );
  }
  for (const f of serial) {
    assert.ok(
      needSerial.includes(f),
      `${f} is in the serial run but changes no process state: let it run in parallel`,
    );
  }
});

Deno.test("deno task test type-checks every file once, then runs both test runs without checking again", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const steps = (tasks.test.command as string).split("&&").map((s) => s.trim());
  const check = steps.indexOf("deno check");
  assert.ok(check >= 0, "the test task runs a bare `deno check` (all files)");
  assert.equal(
    steps.findIndex((s) => s.includes("tests/_run.ts")),
    check + 1,
    "tests/_run.ts (both test runs) comes right after deno check",
  );
  for (const name of ["test-parallel", "test-serial"]) {
    // Cold, the second check cost ~7 s on a fresh clone.
    assert.match(tasks[name].command, /^deno test --no-check /, name);
  }
  const runner = await Deno.readTextFile(`${ROOT}/tests/_run.ts`);
  for (const name of ["test-parallel", "test-serial"]) {
    assert.match(
      runner,
      new RegExp(`"task", "${name}"`),
      `_run.ts runs ${name}`,
    );
  }
});

Deno.test("tests/_run.ts runs both test runs side by side, prints the serial report after the parallel one, and fails when either fails", async () => {
  await using dir = await tmp();
  const cases = [
    { par: 0, ser: 3, want: 3 },
    { par: 5, ser: 0, want: 5 },
    { par: 5, ser: 3, want: 5 },
    { par: 0, ser: 0, want: 0 },
  ];
  for (const c of cases) {
    // The serial stand-in finishes first and says so on both streams; the parallel one waits
    // until the serial one has ended (it polls for its mark, 10 s at most, then exits 9), so the
    // two must overlap.
    await Deno.writeTextFile(
      `${dir.path}/deno.json`,
      JSON.stringify({
        tasks: {
          "test-serial":
            `sh -c 'echo serial-out; echo serial-err >&2; touch serial-done; exit ${c.ser}'`,
          "test-parallel":
            `sh -c 'echo parallel-start; i=0; while [ ! -e serial-done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -e serial-done ] || exit 9; echo parallel-end; exit ${c.par}'`,
        },
      }),
    );
    await Deno.remove(`${dir.path}/serial-done`).catch(() => {});
    const r = await run(Deno.execPath(), [
      "run",
      "-q",
      "--allow-run=deno",
      `${ROOT}/tests/_run.ts`,
    ], { cwd: dir.path });
    assert.equal(r.code, c.want, JSON.stringify(c) + r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.deepEqual(
      lines,
      ["parallel-start", "parallel-end", "serial-out"],
      JSON.stringify(c),
    );
    assert.match(r.stderr, /serial-err/);
  }
});
