// `deno task test` runs most test files with `deno test --parallel`, whose workers share one
// process: its environment and working directory. A file that changes either (Deno.env.set,
// Deno.env.delete, Deno.chdir) would leak into files running beside it (a fake `nix` on PATH, a
// fixture server's URL in COMFYKIT_PYPI_URL), so those files run afterwards, one at a time.
// This test keeps deno.json's two lists in step with the files; deno test runs with --no-check
// because `deno check` (every file, tests included) has type-checked them just before.
import assert from "node:assert/strict";
import { ROOT, testFiles } from "../_helpers.ts";

const PROCESS_STATE = /\bDeno\.(env\.(set|delete)|chdir)\(/;

/** The test files of the parallel run's --ignore and of the serial run, from deno.json. */
export function testGroups(
  command: string,
): { ignored: string[]; serial: string[] } {
  const runs = command.split("&&").map((s) => s.trim()).filter((s) =>
    s.startsWith("deno test")
  );
  assert.equal(runs.length, 2, "deno.json's test task runs deno test twice");
  const [parallel, serial] = runs as [string, string];
  assert.match(parallel, /--parallel/);
  const ignore = /--ignore=(\S+)/.exec(parallel)?.[1] ?? "";
  return {
    ignored: ignore.split(",").filter((s) => s !== ""),
    serial: serial.split(/\s+/).filter((w) => /^tests\/.*_test\.ts$/.test(w)),
  };
}

Deno.test("test files that change the process's env or cwd run serially, the rest in parallel", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const { ignored, serial } = testGroups(config.tasks.test.command);
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

Deno.test("deno test skips its own type check only because deno check has checked every file before it", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const steps = (config.tasks.test.command as string).split("&&").map((s) =>
    s.trim()
  );
  const check = steps.indexOf("deno check");
  assert.ok(check >= 0, "the test task runs a bare `deno check` (all files)");
  steps.forEach((s, i) => {
    if (!s.startsWith("deno test")) return;
    assert.match(
      s,
      /--no-check/,
      `${s.slice(0, 40)}…: cold, checking twice costs ~7 s`,
    );
    assert.ok(i > check, "deno check runs before deno test --no-check");
  });
});
