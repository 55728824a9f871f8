// Is a host there at all? A name that does not resolve or a refused connection is not a
// transient fault (lib/net/http.ts never retries it), and with a shared Reachability one quick
// check per host decides for every request of a run: a DNS query (Deno's own resolver, answering
// in milliseconds where the system's can stall for its 5 s timeout) before the first request,
// then what the requests themselves found.
import { KitError } from "../kit/errors.ts";

/** How long the DNS check may take before the request itself decides (1.5 s). */
const DNS_CHECK_MS = 1500;

/** A host that cannot be reached (no network, DNS failure, refused): never retried. */
export class UnreachableError extends KitError {
  constructor(readonly host: string, readonly reason: string) {
    super(`${host} is unreachable (no network?): ${reason}`);
  }
}

/** The DNS questions the check asks (injectable for tests). */
type ResolveFn = (
  name: string,
  type: "A" | "AAAA",
  signal: AbortSignal,
) => Promise<unknown[]>;

const systemResolve: ResolveFn = (name, type, signal) =>
  Deno.resolveDns(name, type, { signal });

/**
 * The hosts a run found unreachable, with why. `check(url)` answers from what is known, else
 * asks DNS once per host name (shared by concurrent requests); `markDown` records what a
 * request found (a refused port, a failed lookup).
 */
export class Reachability {
  #down = new Map<string, string>();
  #dns = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly resolve: ResolveFn = systemResolve,
    private readonly hostsFile = "/etc/hosts",
  ) {}

  /** Why the host of `url` is unreachable, or undefined when nothing says so. */
  async check(url: URL): Promise<string | undefined> {
    const known = this.#down.get(url.host) ?? this.#down.get(url.hostname);
    if (known !== undefined) return known;
    const name = url.hostname;
    if (isLiteral(name)) return undefined;
    let probe = this.#dns.get(name);
    if (!probe) {
      probe = this.#ask(name);
      this.#dns.set(name, probe);
    }
    const reason = await probe;
    if (reason !== undefined) this.markDown(name, reason);
    return reason;
  }

  /** Records that `host` (`name` or `name:port`) cannot be reached. */
  markDown(host: string, reason: string): void {
    if (!this.#down.has(host)) this.#down.set(host, reason);
  }

  /** How many hosts were found unreachable. */
  get size(): number {
    return this.#down.size;
  }

  /** "The name does not resolve" only on a clear answer: no A, no AAAA, not in /etc/hosts. */
  async #ask(name: string): Promise<string | undefined> {
    const signal = AbortSignal.timeout(DNS_CHECK_MS);
    const answers = await Promise.allSettled(
      (["A", "AAAA"] as const).map((t) => this.resolve(name, t, signal)),
    );
    const none = answers.every((a) =>
      a.status === "rejected" && a.reason instanceof Deno.errors.NotFound
    );
    if (!none || await this.#inHostsFile(name)) return undefined;
    return "the name does not resolve";
  }

  async #inHostsFile(name: string): Promise<boolean> {
    try {
      const text = await Deno.readTextFile(this.hostsFile);
      return text.split("\n").some((l) =>
        l.replace(/#.*/, "").trim().split(/\s+/).slice(1).includes(name)
      );
    } catch {
      // Unreadable: do not conclude anything from DNS alone.
      return true;
    }
  }
}

/** An IP address or localhost: nothing for DNS to answer. */
function isLiteral(name: string): boolean {
  return name === "localhost" || /^[\d.]+$/.test(name) || name.includes(":") ||
    name.startsWith("[");
}

/**
 * Why a failed connection means the host cannot be reached at all (its name does not resolve,
 * it refuses, no route), or undefined for a fault worth another attempt (reset, timeout).
 */
export function unreachableReason(e: unknown): string | undefined {
  if (e instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (!(e instanceof Error)) return undefined;
  const text = `${e.message} ${
    e.cause instanceof Error ? e.cause.message : ""
  }`;
  if (
    /dns error|failed to lookup address|Name or service not known|nodename nor servname|No address associated|Temporary failure in name resolution/i
      .test(text)
  ) {
    return `the name does not resolve (${lastPart(text)})`;
  }
  if (/Connection refused/i.test(text)) return "connection refused";
  if (/Network is unreachable|No route to host/i.test(text)) {
    return lastPart(text);
  }
  return undefined;
}

/** The innermost part of a chained message ("… (Connect): dns error: X" → "X"). */
function lastPart(text: string): string {
  return (text.trim().split(": ").at(-1) ?? text).replace(
    / \(os error \d+\)$/,
    "",
  );
}
