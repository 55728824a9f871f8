// Questions to the user behind one interface (nix-init's Frontend): TerminalFrontend asks on a
// terminal with @inquirer/prompts (drawn on stderr, so stdout stays for results);
// ScriptedFrontend answers from a table and, with --yes, from each question's default; a
// question it cannot answer is a usage error (exit 2) naming the flag that answers it.
// Ctrl-C at a prompt becomes CancelledError (exit 130).
//
//   const fe = chooseFrontend({ yes: flags.yes });
//   const ok = await fe.confirm({ key: "write", flag: "--yes", message: "Write it?", default: true });
import process from "node:process";
import type * as inquirer from "@inquirer/prompts";
import { CancelledError, KitError, UsageError } from "./errors.ts";

/** What every question has: a stable key (for scripted answers) and the flag that answers it. */
interface QuestionBase {
  key: string;
  /** The command-line flag that answers this question, e.g. "--license". */
  flag: string;
  message: string;
}

/** One choice of a select or checkbox question. */
interface Choice<T extends string> {
  value: T;
  name?: string;
  description?: string;
  checked?: boolean;
}

export interface ConfirmQuestion extends QuestionBase {
  default?: boolean;
}
interface SelectQuestion<T extends string> extends QuestionBase {
  choices: readonly Choice<T>[];
  default?: T;
}
interface InputQuestion extends QuestionBase {
  default?: string;
  /** Returns true, or the reason the answer is not acceptable. */
  validate?: (value: string) => true | string;
}
interface CheckboxQuestion<T extends string> extends QuestionBase {
  choices: readonly Choice<T>[];
}

/** Asks the user. */
export interface Frontend {
  /** True when a person answers (a terminal). */
  readonly interactive: boolean;
  confirm(q: ConfirmQuestion): Promise<boolean>;
  select<T extends string>(q: SelectQuestion<T>): Promise<T>;
  input(q: InputQuestion): Promise<string>;
  /** The default selection is the choices marked `checked`. */
  checkbox<T extends string>(q: CheckboxQuestion<T>): Promise<T[]>;
}

/** A scripted answer: boolean (confirm), string (select/input) or string[] (checkbox). */
export type Answer = boolean | string | readonly string[];

/** A record of one question and the answer it got. */
interface Asked {
  key: string;
  message: string;
  answer: Answer;
  /** "scripted" (from the table), "default" (--yes) or "user". */
  by: "scripted" | "default" | "user";
}

/**
 * Answers from `answers` (by question key), else — when `useDefaults` — from the question's
 * default. A question left unanswered throws UsageError naming its flag (exit 2). Records
 * every question in `asked`.
 */
export class ScriptedFrontend implements Frontend {
  readonly interactive = false;
  readonly asked: Asked[] = [];
  constructor(
    private readonly answers: Readonly<Record<string, Answer>> = {},
    private readonly opts: { useDefaults?: boolean; reason?: string } = {},
  ) {}

  private pick<A extends Answer>(
    q: QuestionBase,
    fallback: A | undefined,
    check: (a: Answer) => a is A,
  ): A {
    if (q.key in this.answers) {
      const a = this.answers[q.key]!;
      if (!check(a)) {
        throw new KitError(
          `Scripted answer for "${q.key}" has the wrong type: ${
            JSON.stringify(a)
          }`,
        );
      }
      this.asked.push({
        key: q.key,
        message: q.message,
        answer: a,
        by: "scripted",
      });
      return a;
    }
    if (this.opts.useDefaults && fallback !== undefined) {
      this.asked.push({
        key: q.key,
        message: q.message,
        answer: fallback,
        by: "default",
      });
      return fallback;
    }
    const why = this.opts.reason ??
      (this.opts.useDefaults
        ? "--yes takes defaults, and this question has none"
        : "stdin is not a terminal");
    throw new UsageError(
      `${q.message.replace(/[?:]\s*$/, "")}: ${why}; pass ${q.flag}`,
    );
  }

  confirm(q: ConfirmQuestion): Promise<boolean> {
    return Promise.resolve(
      this.pick(q, q.default, (a): a is boolean => typeof a === "boolean"),
    );
  }

  select<T extends string>(q: SelectQuestion<T>): Promise<T> {
    const values = q.choices.map((c) => c.value as string);
    const a = this.pick(q, q.default, (a): a is T => typeof a === "string");
    if (!values.includes(a)) {
      throw new UsageError(
        `${q.flag} "${a}" is not one of: ${values.join(", ")}`,
      );
    }
    return Promise.resolve(a);
  }

  input(q: InputQuestion): Promise<string> {
    const a = this.pick(
      q,
      q.default,
      (a): a is string => typeof a === "string",
    );
    const ok = q.validate?.(a) ?? true;
    if (ok !== true) throw new UsageError(`${q.flag} "${a}": ${ok}`);
    return Promise.resolve(a);
  }

  checkbox<T extends string>(q: CheckboxQuestion<T>): Promise<T[]> {
    const values = q.choices.map((c) => c.value as string);
    const defaults = q.choices.filter((c) => c.checked).map((c) => c.value);
    const a = this.pick(
      q,
      defaults,
      (a): a is T[] =>
        Array.isArray(a) && a.every((x) => typeof x === "string"),
    );
    const bad = a.filter((x) => !values.includes(x));
    if (bad.length) {
      throw new UsageError(
        `${q.flag} "${bad.join(",")}" is not among: ${values.join(", ")}`,
      );
    }
    return Promise.resolve([...a]);
  }
}

type Inquirer = typeof inquirer;

/** Asks on the terminal with @inquirer/prompts, drawing on stderr. */
export class TerminalFrontend implements Frontend {
  readonly interactive = true;
  readonly asked: Asked[] = [];

  private async ask<A extends Answer>(
    q: QuestionBase,
    run: (lib: Inquirer, ctx: { output: NodeJS.WritableStream }) => Promise<A>,
  ): Promise<A> {
    // Loaded at the first question: --help and scripted runs never pay for it.
    const lib = await import("@inquirer/prompts");
    try {
      const answer = await run(lib, { output: process.stderr });
      this.asked.push({ key: q.key, message: q.message, answer, by: "user" });
      return answer;
    } catch (e) {
      if (
        e instanceof Error &&
        (e.name === "ExitPromptError" || e.name === "AbortPromptError")
      ) {
        throw new CancelledError();
      }
      throw e;
    }
  }

  confirm(q: ConfirmQuestion): Promise<boolean> {
    return this.ask(q, (lib, ctx) =>
      lib.confirm({
        message: q.message,
        ...(q.default !== undefined ? { default: q.default } : {}),
      }, ctx));
  }

  select<T extends string>(q: SelectQuestion<T>): Promise<T> {
    return this.ask(q, (lib, ctx) =>
      lib.select<T>({
        message: q.message,
        choices: q.choices.map((c) => ({
          value: c.value,
          name: c.name ?? c.value,
          ...(c.description ? { description: c.description } : {}),
        })),
        ...(q.default !== undefined ? { default: q.default } : {}),
      }, ctx));
  }

  input(q: InputQuestion): Promise<string> {
    return this.ask(q, (lib, ctx) =>
      lib.input({
        message: q.message,
        ...(q.default !== undefined ? { default: q.default } : {}),
        ...(q.validate ? { validate: q.validate } : {}),
      }, ctx));
  }

  checkbox<T extends string>(q: CheckboxQuestion<T>): Promise<T[]> {
    return this.ask(q, (lib, ctx) =>
      lib.checkbox<T>({
        message: q.message,
        choices: q.choices.map((c) => ({
          value: c.value,
          name: c.name ?? c.value,
          checked: c.checked ?? false,
        })),
      }, ctx));
  }
}

/**
 * The frontend for a run: scripted with defaults under --yes, the terminal when stdin and
 * stderr are terminals, otherwise scripted without defaults (so a missing answer exits 2
 * naming its flag instead of hanging).
 */
export function chooseFrontend(
  opts: { yes?: boolean; answers?: Readonly<Record<string, Answer>> },
): Frontend {
  if (opts.yes) {
    return new ScriptedFrontend(opts.answers, { useDefaults: true });
  }
  if (Deno.stdin.isTerminal() && Deno.stderr.isTerminal()) {
    return new TerminalFrontend();
  }
  return new ScriptedFrontend(opts.answers);
}
