// Which models a workflow needs pinned, before any network: properties.models entries, widget-only
// file names, and the user's `--model NAME=URL` answers for them. Pure.
import { KitError, UsageError } from "../kit/errors.ts";
import type { UnpinnedModel } from "../comfy/lock_file.ts";
import { modelPath } from "../comfy/lock_file.ts";
import type { Workflow } from "../comfy/workflow.ts";
import { type ModelRequest, normaliseUrl } from "./resolve.ts";

/** The models to resolve and those that cannot be. */
interface ModelPlan {
  requests: ModelRequest[];
  unpinned: UnpinnedModel[];
}

/** Parses `--model NAME=URL` flags into name → URL. */
export function parseOverrides(flags: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of flags) {
    const i = f.indexOf("=");
    const name = f.slice(0, i).trim();
    const url = f.slice(i + 1).trim();
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === "https:" || u.protocol === "http:";
    } catch {
      // not a URL
    }
    if (i <= 0 || !ok) {
      throw new UsageError(
        `--model "${f}": expected NAME=URL with an http(s) URL`,
      );
    }
    out.set(name, url);
  }
  return out;
}

/**
 * The models to pin: each `properties.models` entry with a URL (an override wins), each
 * widget-only file the user gave a URL for. A name the workflow does not use is a usage error.
 */
export function planModels(
  wf: Workflow,
  overrides: Map<string, string>,
  hub: string,
): ModelPlan {
  const used = new Set<string>();
  const byPath = new Map<string, ModelRequest>();
  const unpinned: UnpinnedModel[] = [];
  const add = (r: ModelRequest) => {
    const key = modelPath(r);
    const had = byPath.get(key);
    if (had && had.url !== r.url) {
      throw new KitError(
        `models/${key} has two URLs in the workflow: "${had.url}" and "${r.url}"; choose one with --model "${r.name}=URL"`,
      );
    }
    if (had) had.nodeTypes = [...new Set([...had.nodeTypes, ...r.nodeTypes])];
    else byPath.set(key, r);
  };
  const override = (name: string, directory: string | undefined) => {
    for (const key of [name, directory ? `${directory}/${name}` : undefined]) {
      if (key !== undefined && overrides.has(key)) {
        used.add(key);
        return overrides.get(key);
      }
    }
    return undefined;
  };
  for (const m of wf.models) {
    const url = override(m.name, m.directory) ?? m.url;
    const nodeType = m.nodeTypes[0] ?? "";
    if (url === undefined) {
      unpinned.push({
        name: m.name,
        ...(m.directory ? { directory: m.directory } : {}),
        nodeType,
        reason: `properties.models gives no URL: add --model "${m.name}=URL"`,
      });
    } else if (m.directory === undefined) {
      unpinned.push({
        name: m.name,
        nodeType,
        reason:
          `properties.models gives no directory: add --model "DIRECTORY/${m.name}=URL"`,
      });
    } else {
      add({
        name: m.name,
        directory: m.directory,
        url: normaliseUrl(url, hub),
        nodeTypes: m.nodeTypes,
      });
    }
  }
  for (const w of wf.widgetModels) {
    const url = override(w.name, w.directory);
    // A directory the user names: "--model DIR/NAME=URL" for a loader the kit does not know.
    const withDir = [...overrides.keys()].find((k) =>
      !used.has(k) && k.endsWith(`/${w.name}`) && k.length > w.name.length + 1
    );
    if (url !== undefined && w.directory === undefined) {
      throw new UsageError(
        `--model "${w.name}=…": ${w.nodeType} is a loader the kit does not know the models folder of: give --model "DIRECTORY/${w.name}=URL"`,
      );
    }
    if (url !== undefined && w.directory !== undefined) {
      add({
        name: w.name,
        directory: w.directory,
        url: normaliseUrl(url, hub),
        nodeTypes: [w.nodeType],
      });
    } else if (withDir !== undefined) {
      used.add(withDir);
      const directory = withDir.slice(0, withDir.length - w.name.length - 1);
      add({
        name: w.name,
        directory,
        url: normaliseUrl(overrides.get(withDir)!, hub),
        nodeTypes: [w.nodeType],
      });
    } else {
      unpinned.push({
        name: w.name,
        ...(w.directory ? { directory: w.directory } : {}),
        nodeType: w.nodeType,
        reason: w.directory
          ? `named only in widgets_values: add --model "${w.name}=URL"`
          : `named only in widgets_values of a loader the kit does not know: add --model "DIRECTORY/${w.name}=URL"`,
      });
    }
  }
  const unused = [...overrides.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new UsageError(
      `--model "${
        unused[0]
      }": the workflow names no such model (or it needs DIRECTORY/NAME)`,
    );
  }
  return { requests: [...byPath.values()], unpinned };
}
