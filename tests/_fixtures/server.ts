// A loopback HTTP server for tests: a route table of path patterns to handlers, plus a request
// log, so each suite mounts only the fakes it needs (PyPI, GitHub, fault injection…).

/** A handler receives the request and the regexp match of its path. */
export type RouteHandler = (
  req: Request,
  match: RegExpMatchArray,
) => Response | Promise<Response>;

/** A started fixture server; dispose it with `await using`. */
export interface FixtureServer extends AsyncDisposable {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every request seen, as "METHOD /path?query". */
  log: string[];
  /** Adds a route; later routes win over earlier ones for the same path. */
  route(method: string, pattern: RegExp, handler: RouteHandler): void;
}

/** Starts a fixture server on 127.0.0.1 with a random port. */
export function startServer(): Promise<FixtureServer> {
  const routes: { method: string; pattern: RegExp; handler: RouteHandler }[] =
    [];
  const log: string[] = [];
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => resolve(port),
  }, async (req) => {
    const u = new URL(req.url);
    log.push(`${req.method} ${u.pathname}${u.search}`);
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i]!;
      if (
        r.method !== req.method &&
        !(r.method === "GET" && req.method === "HEAD")
      ) continue;
      const m = u.pathname.match(r.pattern);
      if (m) return await r.handler(req, m);
    }
    return new Response("not found", { status: 404 });
  });
  return promise.then((port) => ({
    url: `http://127.0.0.1:${port}`,
    log,
    route(method, pattern, handler) {
      routes.push({ method, pattern, handler });
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  }));
}

/** A JSON response. */
export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json" },
  });
}
