// The contract of a source kind: everything the kit does differently for a PyPI file, a GitHub
// archive or a plain URL lives in one adapter file in this folder, listed once in all.ts.
// The kit's mechanisms (vendoring, the manifest, verify, outdated, fetch-source) ask the adapter
// and never test a kind's name themselves.
import type { z } from "zod";
import type { EnvLike } from "../../kit/env.ts";
import type { RequestOptions } from "../../net/http.ts";
import type { COMMON_FIELDS } from "./fields.ts";

/** The fields every manifest entry has. */
export type CommonEntry = z.infer<z.ZodObject<typeof COMMON_FIELDS>> & {
  kind: string;
};

/** What planning may use (a VendorContext is one): endpoints and request options. */
export interface PlanContext {
  /** The repository root (planning reads nothing there; a VendorContext carries it). */
  root?: string;
  env?: EnvLike;
  request?: RequestOptions;
}

/** fetch-source's flags that shape a plan. */
interface SpecOptions {
  /** --wheel / --sdist. */
  prefer?: "wheel" | "sdist" | undefined;
  allowBranch?: boolean;
  /** --name, --version, --file, --sha256 (a URL source's). */
  url?: {
    name?: string | undefined;
    version?: string | undefined;
    file?: string | undefined;
    sha256?: string | undefined;
  };
  insecureHttp?: boolean;
  /** How many sources the run vendors. */
  count?: number;
}

/** What will be fetched for one source. */
export interface Plan {
  kind: string;
  name: string;
  version: string;
  file: string;
  url: string;
  /** Expected sha256 (hex), when the origin publishes one or the caller knows it. */
  sha256?: string;
  size?: number;
  /** The kind's own manifest fields the plan already knows (a GitHub owner, repo, rev, commit). */
  fields?: Record<string, string>;
  /** The URL is plain http and the user allowed it. */
  insecureHttp?: boolean;
}

/** A fetcher call in a package file, as a kind reads it (`fetchPypi { pname = …; }`). */
interface FetchCall {
  /** The function's last name (`fetchPypi`, `fetchFromGitHub`, `fetchurl`). */
  fetcher: string;
  /** A string attribute's value, when it is static. */
  attr(name: string): string | undefined;
}

/** Where `outdated` asks for newer releases of a source. */
type Upstream =
  | { kind: "pypi"; name: string }
  | { kind: "github"; owner: string; repo: string };

/** One kind of source; `S` is the schema of its manifest entries. */
export interface SourceKind<S extends z.ZodObject = z.ZodObject> {
  /** The manifest `kind` values this adapter records (PyPI: a wheel and an sdist). */
  kinds: readonly [string, ...string[]];
  /** The manifest entry's schema: COMMON_FIELDS, `kind`, then the kind's own fields in order. */
  schema: S;
  /** fetch-source's spec, as usage and errors name it (`pypi:NAME==VERSION`). */
  syntax: string;
  /** True when a fetch-source spec is this kind's. */
  matches(spec: string): boolean;
  /** Whether --name, --version, --file and --sha256 go with this kind's specs. */
  takesUrlOptions: boolean;
  /** Parses a spec and plans its download (API calls only: `--dry-run` stops here). */
  plan(ctx: PlanContext, spec: string, opts: SpecOptions): Promise<Plan>;
  /** Whether the entry records the NAR hash of the unpacked archive (`nar`). */
  recordsNar: boolean;
  /** The entry recorded for a plan once its bytes are known. */
  entry(
    plan: Plan,
    got: { sha256: string; size: number; nar?: string },
  ): Entry<S>;
  /** Whether a plan names the same source as a recorded entry (same bytes from elsewhere). */
  sameOrigin(e: Entry<S>, plan: Plan): boolean;
  /** How a refusal names an entry's or a plan's origin (`URL (commit …)`). */
  origin(e: Entry<S> | Plan): string;
  /** Whether a package file's fetcher call downloads what the entry records (verify: "used"). */
  fetchedBy(call: FetchCall, e: Entry<S>): boolean;
  /** What is wrong with an entry beyond its schema (verify's "Vendored sources"). */
  problems(e: Entry<S>): { message: string; fix: string }[];
  /** Where `outdated` asks for newer versions; undefined when nowhere. */
  upstream(e: Entry<S>): Upstream | undefined;
  /** What fetch-source's result line adds after the sha256 (` nar … commit …`). */
  describe(e: Entry<S>): string;
  /** For the tests every kind must pass: a spec, an entry with every field, a src fetching it. */
  example: { spec: string; entry: Entry<S>; src: string | undefined };
}

/** The manifest entry a kind's schema describes. */
type Entry<S extends z.ZodObject> = z.infer<S>;
