// Instant --help (issue 23): no task loads its workflow (lib/<wing>/run.ts) or the prompt
// library before it has parsed its arguments, so --help and usage errors answer without them.
// The figures are in bench/README.md (deno task bench-startup); this checks the structure.
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";
import { DEFAULT_PYTHON } from "../../lib/bump/run.ts";
import { main as bump } from "../../tasks/bump_comfyui.ts";
import { captureOutput } from "../_helpers.ts";

/** Static value imports (not `import type`) of a module's source. */
function staticImports(text: string): string[] {
  const out: string[] = [];
  for (
    const m of text.matchAll(
      /^\s*import\s+(?!type\s)[^;]*?\sfrom\s+["']([^"']+)["']/gms,
    )
  ) out.push(m[1]!);
  return out;
}

Deno.test("no task imports its workflow statically: run.ts loads after --help", async () => {
  for (const e of Deno.readDirSync(`${ROOT}/tasks`)) {
    if (!e.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(`${ROOT}/tasks/${e.name}`);
    for (const spec of staticImports(text)) {
      assert.doesNotMatch(
        spec,
        /\/lib\/[^/]+\/run\.ts$/,
        `tasks/${e.name} imports ${spec} statically: use import() after --help`,
      );
    }
  }
  const prompt = await Deno.readTextFile(`${ROOT}/lib/kit/prompt.ts`);
  assert.ok(
    !staticImports(prompt).includes("@inquirer/prompts"),
    "lib/kit/prompt.ts loads @inquirer/prompts at the first question only",
  );
});

Deno.test("bump-comfyui --help names the real default Python", async () => {
  const r = await captureOutput(() => bump(["--help"]));
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    new RegExp(
      `--python X\\.Y .*\\(default ${DEFAULT_PYTHON.replace(".", "\\.")}\\)`,
    ),
  );
});

Deno.test("each task loads every workflow name it declares", async () => {
  for (const e of Deno.readDirSync(`${ROOT}/tasks`)) {
    if (!e.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(`${ROOT}/tasks/${e.name}`);
    const declared = /let \{([^}]*)\}\s*=\s*\{\}\s*as typeof Workflow;/.exec(
      text,
    );
    if (!declared) continue;
    const loaded =
      /\(\{([^}]*)\}\s*=\s*await import\("\.\.\/lib\/\w+\/run\.ts"\)\);/
        .exec(text);
    const names = (s: string | undefined) =>
      (s ?? "").split(",").map((n) => n.trim()).filter((n) => n !== "").sort();
    assert.ok(
      loaded,
      `tasks/${e.name} declares its workflow but never loads it`,
    );
    // A name declared but not loaded would be undefined when the task runs.
    assert.deepEqual(names(loaded[1]), names(declared[1]), `tasks/${e.name}`);
  }
});
