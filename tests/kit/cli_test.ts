import assert from "node:assert/strict";
import { argPath, invocationDir } from "../../lib/kit/cli.ts";
import { ROOT, tmp } from "../_helpers.ts";

/** Sets INIT_CWD for one test and restores it after. */
function withInitCwd(value: string | undefined): Disposable {
  const before = Deno.env.get("INIT_CWD");
  if (value === undefined) Deno.env.delete("INIT_CWD");
  else Deno.env.set("INIT_CWD", value);
  return {
    [Symbol.dispose]() {
      if (before === undefined) Deno.env.delete("INIT_CWD");
      else Deno.env.set("INIT_CWD", before);
    },
  };
}

Deno.test("argPath() resolves against INIT_CWD when running in the project root, as deno task does", () => {
  assert.equal(Deno.cwd(), ROOT);
  using _ = withInitCwd("/somewhere/else");
  assert.equal(invocationDir(), "/somewhere/else");
  assert.equal(argPath("../x.whl"), "/somewhere/x.whl");
  assert.equal(argPath("/abs/y"), "/abs/y");
});

Deno.test("argPath() falls back to the working directory without INIT_CWD", () => {
  using _ = withInitCwd(undefined);
  assert.equal(argPath("README.md"), `${ROOT}/README.md`);
});

Deno.test("argPath() ignores a stale INIT_CWD when the process runs elsewhere", async () => {
  await using dir = await tmp();
  using _ = withInitCwd("/stale");
  Deno.chdir(dir.path);
  try {
    assert.equal(argPath("b.log"), `${Deno.realPathSync(dir.path)}/b.log`);
  } finally {
    Deno.chdir(ROOT);
  }
});
