// deno task verify — the release checklist, automated: every source pinned, every vendored file
// present and matching, every custom package wired in, every file parsing (with real Nix too when
// nix-instantiate is on PATH), the Flox environment as Flox needs it. Prints a checklist with
// file:line, ✓/✗/! marks and the fix.
//
//   deno task verify                 # exit 0 when there are no errors (warnings allowed)
//   deno task verify --strict --release --json
//
// Permissions: --allow-read (the repository), --allow-run=nix-instantiate,git; for --online only,
// --allow-net and --allow-write to the download cache.
import { parseCli, runTask } from "../lib/kit/cli.ts";
import { resolveRoot, ROOT_HELP } from "../lib/repo/paths.ts";
import { capture } from "../lib/kit/command.ts";
import { out } from "../lib/kit/log.ts";
import type { Finding, RunCommand } from "../lib/verify/run.ts";
import type * as Workflow from "../lib/verify/run.ts";
// The workflow loads after --help and the usage checks: --help answers at once (issue 23).
let { SECTIONS, verifyRepo } = {} as typeof Workflow;

const USAGE = `Usage: deno task verify [options]

Checks the package set against the release checklist: .flox/pkgs/*.nix (and <name>/default.nix),
sources-manifest.json, .flox/sources/ (pinned sources, vendored files, their hashes and sizes,
wiring, requirements.txt coverage, pythonImportsCheck, Requires-Python, licences, platform names,
syntax — also with nix-instantiate --parse when it is installed), and the Flox environment
(.flox/env.json, manifest.toml's toplevel group, manifest.lock, files tracked by git).

Options:
  --strict        warnings count as errors (missing vendored files, unused manifest entries, …)
  --release       also require a clean git work tree for .flox/ and the manifest, HEAD
                  tagged v<main package version>, and .flox/env/manifest.lock
  --online        download ComfyUI's pinned archive when the cache lacks it, to compare
                  comfyui.nix's dependencies with its requirements.txt
  --json          print the findings as JSON
  --root DIR      ${ROOT_HELP}
  --no-nix        skip the nix-instantiate --parse pass
  -h, --help      show this help

Exit status: 0 no errors, 1 errors found, 2 usage error.`;

/** Runs a command, or returns undefined when it is not installed. */
const runCommand: RunCommand = (cmd, args, cwd) => capture(cmd, args, { cwd });

export async function main(args: string[]): Promise<number> {
  return await runTask(USAGE, async () => {
    const { values } = parseCli(args, {
      strict: { type: "boolean" },
      release: { type: "boolean" },
      online: { type: "boolean" },
      json: { type: "boolean" },
      root: { type: "string" },
      "no-nix": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }, false);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    ({ SECTIONS, verifyRepo } = await import("../lib/verify/run.ts"));
    const root = await resolveRoot(values.root);
    const started = performance.now();
    const noNix = values["no-nix"] === true;
    const findings = await verifyRepo({
      root,
      release: values.release === true,
      online: values.online === true,
      runCommand: (cmd, a, cwd) =>
        noNix && cmd === "nix-instantiate"
          ? Promise.resolve(undefined)
          : runCommand(cmd, a, cwd),
    });
    if (values.strict) {
      for (const f of findings) if (f.level === "warning") f.level = "error";
    }
    const count = (l: Finding["level"]) =>
      findings.filter((f) => f.level === l).length;
    const summary = {
      passed: count("ok"),
      warnings: count("warning"),
      errors: count("error"),
    };
    const ms = Math.round(performance.now() - started);
    if (values.json) {
      out(JSON.stringify(
        { ok: summary.errors === 0, ...summary, ms, findings },
        null,
        2,
      ));
    } else {
      for (const line of render(findings)) out(line);
      out("");
      out(
        `${
          summary.errors === 0 ? "✓" : "✗"
        } ${summary.passed} passed, ${summary.warnings} warning${
          summary.warnings === 1 ? "" : "s"
        }, ${summary.errors} error${
          summary.errors === 1 ? "" : "s"
        } (${ms} ms)`,
      );
    }
    return summary.errors === 0 ? 0 : 1;
  });
}

const MARK = { ok: "✓", warning: "!", error: "✗" } as const;

/** The checklist text: one heading per section, one line per finding, the fix below it. */
export function render(findings: Finding[]): string[] {
  const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  const paint = (level: Finding["level"], s: string) =>
    !color
      ? s
      : `\x1b[${
        level === "ok" ? 32 : level === "warning" ? 33 : 31
      }m${s}\x1b[0m`;
  const lines: string[] = [];
  for (const section of SECTIONS) {
    const fs = findings.filter((f) => f.section === section);
    if (fs.length === 0) continue;
    const bad = fs.some((f) => f.level === "error");
    const warn = fs.some((f) => f.level === "warning");
    const head = bad ? "error" : warn ? "warning" : "ok";
    if (lines.length) lines.push("");
    lines.push(`${paint(head, MARK[head])} ${section}`);
    for (const f of fs) {
      const where = f.where ? `${f.where}: ` : "";
      lines.push(`  ${paint(f.level, MARK[f.level])} ${where}${f.message}`);
      if (f.fix && f.level !== "ok") lines.push(`      fix: ${f.fix}`);
    }
  }
  return lines;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
