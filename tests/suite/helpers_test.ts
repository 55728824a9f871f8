// The shared test helpers that decide what runs: real-sources gating, the golden-file helper and
// the update-golden task that refreshes every golden file.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertGolden,
  captureOutput,
  GOLDEN_DIR,
  haveRealSources,
  ROOT,
  testFiles,
} from "../_helpers.ts";

Deno.test("haveRealSources() skips with one notice when the folder is absent, and fails in CI", async () => {
  const gone = join(ROOT, "..", "no-such-real-sources");
  let result: boolean | undefined;
  const r = await captureOutput(() => {
    result = haveRealSources(gone, false);
    haveRealSources(gone, false);
    return Promise.resolve(0);
  });
  assert.equal(result, false);
  assert.equal(
    r.stderr,
    `notice: ${gone} not found, skipping the tests that use the real distributions\n`,
  );
  assert.throws(() => haveRealSources(gone, true), /required when CI=true/);
  assert.equal(haveRealSources(ROOT, true), true);
});

Deno.test("assertGolden() compares with tests/golden/<name> and names the refresh command", async () => {
  const name = "bump_comfyui/dry_run_0.3.76.txt";
  const text = await Deno.readTextFile(join(GOLDEN_DIR, name));
  await assertGolden(name, text);
  await assert.rejects(
    () => assertGolden(name, text + "x"),
    /deno task update-golden/,
  );
  await assert.rejects(
    () => assertGolden("no/such/file.txt", ""),
    /missing golden file .*no\/such\/file\.txt: run "deno task update-golden"/,
  );
});

Deno.test("deno task update-golden runs every test file that uses assertGolden()", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const command = config.tasks["update-golden"].command as string;
  assert.match(command, /^UPDATE_GOLDEN=1 deno test /);
  const users: string[] = [];
  for (const file of testFiles()) {
    if (file.endsWith("/helpers_test.ts")) continue;
    const text = await Deno.readTextFile(`${ROOT}/${file}`);
    if (/\bassertGolden\(|\bgolden\(/.test(text)) users.push(file);
  }
  assert.ok(users.length >= 3, users.join(" "));
  for (const u of users) assert.ok(command.includes(u), u);
  // Every golden file belongs to one of them.
  const goldens = [...Deno.readDirSync(GOLDEN_DIR)].map((e) => e.name);
  assert.ok(goldens.includes("bump_comfyui"));
});
