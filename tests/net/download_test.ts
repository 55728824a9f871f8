import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer } from "../_fixtures/server.ts";
import { hexOf } from "../_fixtures/build.ts";
import { ROOT, tmp } from "../_helpers.ts";
import { applyMirrors, parseMirrors } from "../../lib/net/mirrors.ts";
import { download } from "../../lib/net/download.ts";
import { describeError, type FetchFn, fetchJson } from "../../lib/net/http.ts";
import { Reachability } from "../../lib/net/reach.ts";
import { defaultCacheDir, DownloadCache } from "../../lib/net/cache.ts";

const BYTES = new TextEncoder().encode(
  "the payload of a vendored file\n".repeat(50),
);
const SHA = hexOf(BYTES);

/** Fast retries; delays are recorded so tests can check the backoff. */
function fastRetry(attempts = 3, timeoutMs = 2_000) {
  const delays: number[] = [];
  return {
    delays,
    retry: {
      attempts,
      baseDelayMs: 10,
      timeoutMs,
      sleep: (ms: number) => {
        delays.push(ms);
        return Promise.resolve();
      },
    },
  };
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function ok(bytes = BYTES): Response {
  return new Response(bytes as BodyInit, {
    headers: { "content-length": String(bytes.length) },
  });
}

Deno.test("download() writes the verified file and reports its hash", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/f$/, () => ok());
  const dest = join(dir.path, "f.whl");
  const r = await download(`${server.url}/f`, { dest, sha256: SHA });
  assert.deepEqual(
    { sha256: r.sha256, size: r.size, fromCache: r.fromCache },
    { sha256: SHA, size: BYTES.length, fromCache: false },
  );
  assert.deepEqual(await Deno.readFile(dest), BYTES);
  assert.deepEqual(await listDir(dir.path), ["f.whl"]);
});

Deno.test("download() retries a 500 and then succeeds", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  let n = 0;
  server.route(
    "GET",
    /^\/f$/,
    () => ++n === 1 ? new Response("boom", { status: 500 }) : ok(),
  );
  const { retry, delays } = fastRetry();
  const messages: string[] = [];
  const dest = join(dir.path, "f");
  await download(`${server.url}/f`, {
    dest,
    sha256: SHA,
    retry,
    onRetry: (m) => messages.push(m),
  });
  assert.equal(n, 2);
  assert.deepEqual(delays, [10]);
  assert.match(messages[0]!, /HTTP 500; retrying in .* \(attempt 2 of 3\)/);
  assert.deepEqual(await Deno.readFile(dest), BYTES);
});

Deno.test("download() backs off exponentially, honours Retry-After, and gives up after the attempts", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  let n = 0;
  server.route("GET", /^\/f$/, () => {
    n++;
    return n === 1
      ? new Response("slow down", {
        status: 429,
        headers: { "retry-after": "0.05" },
      })
      : new Response("unavailable", { status: 503 });
  });
  const { retry, delays } = fastRetry(4);
  const dest = join(dir.path, "f");
  await assert.rejects(
    download(`${server.url}/f`, { dest, sha256: SHA, retry }),
    /failed after 4 attempts: .*HTTP 503/,
  );
  assert.equal(n, 4);
  assert.deepEqual(delays, [50, 20, 40]);
  assert.deepEqual(await listDir(dir.path), []);
});

Deno.test("download() stops retrying when the total time budget is spent", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/f$/, () => new Response("x", { status: 502 }));
  await assert.rejects(
    download(`${server.url}/f`, {
      dest: join(dir.path, "f"),
      retry: { attempts: 50, baseDelayMs: 40, totalMs: 100 },
    }),
    /failed after [23] attempts/,
  );
});

Deno.test("download() treats 404 as final (one request, no retry)", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  const { retry } = fastRetry();
  await assert.rejects(
    download(`${server.url}/missing`, { dest: join(dir.path, "f"), retry }),
    /missing: HTTP 404 \(not found\)/,
  );
  assert.equal(server.log.length, 1);
  assert.deepEqual(await listDir(dir.path), []);
});

Deno.test("download() does not retry a refused connection or a name that does not resolve (issue 23)", async () => {
  await using dir = await tmp();
  // A port that was just free: nothing listens there.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const retries: string[] = [];
  // DNS gives no clear answer here: what the request finds decides.
  const reach = new Reachability(() => Promise.reject(new Error("timed out")));
  const { retry } = fastRetry(5);
  await assert.rejects(
    download(`http://127.0.0.1:${port}/f`, {
      dest: join(dir.path, "f"),
      retry,
      reach,
      insecureHttp: true,
      onRetry: (m) => retries.push(m),
    }),
    new RegExp(
      `^KitError: download of http://127\\.0\\.0\\.1:${port}/f failed: 127\\.0\\.0\\.1:${port} is unreachable \\(no network\\?\\): connection refused$`,
    ),
  );
  assert.equal(retries.length, 0, retries.join("\n"));
  assert.equal(
    await reach.check(new URL(`http://127.0.0.1:${port}/other`)),
    "connection refused",
  );
  // What Deno's fetch throws when a name does not resolve (the tests may not resolve names).
  const dnsFailure: FetchFn = (u) =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error(
          `error sending request for url (${u}): client error (Connect): dns error: failed to lookup address information: Name or service not known`,
        ),
      }),
    );
  await assert.rejects(
    download("https://files.example.invalid/f", {
      dest: join(dir.path, "g"),
      retry,
      reach,
      fetch: dnsFailure,
      onRetry: (m) => retries.push(m),
    }),
    /files\.example\.invalid is unreachable \(no network\?\): the name does not resolve/,
  );
  assert.equal(retries.length, 0, retries.join("\n"));
  // A later request to a host found unreachable asks no network.
  let asked = 0;
  await assert.rejects(
    download("https://files.example.invalid/h", {
      dest: join(dir.path, "h"),
      retry,
      reach,
      fetch: (u, i) => (asked++, dnsFailure(u, i)),
    }),
    /the name does not resolve/,
  );
  assert.equal(asked, 0);
  assert.deepEqual(await listDir(dir.path), []);
});

Deno.test("Reachability: one DNS check per name decides before any request; /etc/hosts and answers keep it open (issue 23)", async () => {
  await using dir = await tmp();
  const hosts = join(dir.path, "hosts");
  await Deno.writeTextFile(
    hosts,
    "127.0.0.1 localhost\n10.0.0.5 mirror.lan # ours\n",
  );
  const asked: string[] = [];
  const resolve = (name: string, type: string) => {
    asked.push(`${name} ${type}`);
    return name === "pypi.org"
      ? Promise.resolve(["151.101.0.223"])
      : Promise.reject(new Deno.errors.NotFound("no records found"));
  };
  const reach = new Reachability(resolve, hosts);
  const gone = new URL("https://pypi.invalid/pypi/x/json");
  const checks = await Promise.all(
    [gone, gone, new URL("https://pypi.invalid/pypi/y/json")].map((u) =>
      reach.check(u)
    ),
  );
  assert.deepEqual(checks, Array(3).fill("the name does not resolve"));
  assert.deepEqual(
    asked,
    ["pypi.invalid A", "pypi.invalid AAAA"],
    "asked once",
  );
  assert.equal(
    await reach.check(new URL("https://pypi.org/simple/")),
    undefined,
  );
  assert.equal(await reach.check(new URL("http://mirror.lan/x")), undefined);
  assert.equal(await reach.check(new URL("http://127.0.0.1:9/x")), undefined);
  assert.equal(reach.size, 1);
  // A download through it asks no network at all.
  let fetched = 0;
  await assert.rejects(
    download(gone.href, {
      dest: join(dir.path, "f"),
      reach,
      fetch: () => (fetched++, Promise.reject(new Error("no"))),
    }),
    /pypi\.invalid is unreachable \(no network\?\): the name does not resolve$/,
  );
  assert.equal(fetched, 0);
});

Deno.test("download() times out a slow response and retries", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  let n = 0;
  server.route("GET", /^\/f$/, async () => {
    if (++n === 1) await new Promise((r) => setTimeout(r, 400));
    return ok();
  });
  const { retry } = fastRetry(3, 100);
  const messages: string[] = [];
  const dest = join(dir.path, "f");
  await download(`${server.url}/f`, {
    dest,
    sha256: SHA,
    retry,
    onRetry: (m) => messages.push(m),
  });
  assert.match(messages[0]!, /timed out after 100 ms/);
  assert.deepEqual(await Deno.readFile(dest), BYTES);
});

Deno.test("download() times out a body that stalls midway, leaving no temp file", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  const timers: ReturnType<typeof setTimeout>[] = [];
  server.route("GET", /^\/f$/, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(BYTES.subarray(0, 100));
          // Never closes: the client's idle timer must fire.
          timers.push(setTimeout(() => c.close(), 5_000));
        },
      }),
      { headers: { "content-length": String(BYTES.length) } },
    ));
  const { retry } = fastRetry(2, 150);
  await assert.rejects(
    download(`${server.url}/f`, { dest: join(dir.path, "f"), retry }),
    /failed after 2 attempts: timed out/,
  );
  timers.forEach(clearTimeout);
  assert.deepEqual(await listDir(dir.path), []);
});

/** A raw TCP server that answers with a Content-Length larger than the body, then hangs up. */
function truncatingServer(
  answers: Uint8Array[],
): { url: string; close(): void; hits(): number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let hits = 0;
  (async () => {
    for await (const conn of listener) {
      const body = answers[Math.min(hits, answers.length - 1)]!;
      const full = hits >= answers.length - 1 && body.length === BYTES.length;
      hits++;
      const buf = new Uint8Array(4096);
      await conn.read(buf).catch(() => null);
      const head = `HTTP/1.1 200 OK\r\ncontent-length: ${BYTES.length}\r\n` +
        `connection: close\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head)).catch(() => 0);
      await conn.write(body).catch(() => 0);
      if (!full) await new Promise((r) => setTimeout(r, 10));
      conn.close();
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => listener.close(),
    hits: () => hits,
  };
}

Deno.test("download() retries a truncated body and never lands the partial file", async () => {
  await using dir = await tmp();
  const srv = truncatingServer([BYTES.subarray(0, 200), BYTES]);
  try {
    const { retry } = fastRetry(3);
    const dest = join(dir.path, "f");
    await download(`${srv.url}/f`, { dest, sha256: SHA, retry });
    assert.equal(srv.hits(), 2);
    assert.deepEqual(await Deno.readFile(dest), BYTES);
  } finally {
    srv.close();
  }
  const srv2 = truncatingServer([BYTES.subarray(0, 200)]);
  try {
    const dest = join(dir.path, "g");
    await assert.rejects(
      download(`${srv2.url}/g`, { dest, retry: fastRetry(2).retry }),
      /failed after 2 attempts/,
    );
    assert.deepEqual(await listDir(dir.path), ["f"]);
  } finally {
    srv2.close();
  }
});

Deno.test("download() rejects wrong bytes naming both hashes, and keeps the old file", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  const evil = new TextEncoder().encode("not what was published");
  server.route("GET", /^\/f$/, () => ok(evil));
  const dest = join(dir.path, "f");
  await Deno.writeTextFile(dest, "previous content");
  await assert.rejects(
    download(`${server.url}/f`, {
      dest,
      sha256: SHA,
      retry: fastRetry().retry,
    }),
    new RegExp(`sha256 mismatch .*expected ${SHA}, got ${hexOf(evil)}`),
  );
  // Wrong bytes are not a transient fault: one request only.
  assert.equal(server.log.length, 1);
  assert.equal(await Deno.readTextFile(dest), "previous content");
  assert.deepEqual(await listDir(dir.path), ["f"]);
});

Deno.test("download() refuses a redirect loop", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/a$/, () => Response.redirect(`${server.url}/b`, 302));
  server.route("GET", /^\/b$/, () => Response.redirect(`${server.url}/a`, 301));
  await assert.rejects(
    download(`${server.url}/a`, {
      dest: join(dir.path, "f"),
      insecureHttp: true,
      retry: fastRetry().retry,
    }),
    /redirect loop/,
  );
  assert.equal(server.log.length, 2);
});

Deno.test("download() follows a relative redirect when plain http is allowed", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route(
    "GET",
    /^\/old$/,
    () => new Response(null, { status: 308, headers: { location: "/new/f" } }),
  );
  server.route("GET", /^\/new\/f$/, () => ok());
  const dest = join(dir.path, "f");
  const r = await download(`${server.url}/old`, {
    dest,
    sha256: SHA,
    insecureHttp: true,
  });
  assert.equal(r.source, `${server.url}/new/f`);
});

Deno.test("download() follows a redirect within an http mirror, refuses one to another http host (issue 22 #27)", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  // An http mirror (COMFYKIT_MIRRORS, COMFYKIT_PYPI_URL) that moves a path: same origin.
  server.route("GET", /^\/a$/, () => Response.redirect(`${server.url}/b`, 302));
  server.route("GET", /^\/b$/, () => ok());
  const r = await download(`${server.url}/a`, {
    dest: join(dir.path, "f"),
    sha256: SHA,
  });
  assert.equal(r.source, `${server.url}/b`);
  // Another host over plain http: refused, naming where the flag exists.
  const other = server.url.replace("127.0.0.1", "localhost");
  server.route("GET", /^\/c$/, () => Response.redirect(`${other}/b`, 302));
  await assert.rejects(
    download(`${server.url}/c`, { dest: join(dir.path, "g") }),
    /refusing a redirect to non-https "http:\/\/localhost:\d+\/b" on another host \(use an https mirror; deno task fetch-source allows plain http with --insecure-http\)/,
  );
  assert.deepEqual(server.log, ["GET /a", "GET /b", "GET /c"]);
});

Deno.test("download() refuses a downgrade from https to http, even with insecureHttp", async () => {
  await using dir = await tmp();
  const seen: string[] = [];
  const fakeFetch: FetchFn = (input) => {
    seen.push(String(input));
    return Promise.resolve(
      new Response(null, {
        status: 302,
        headers: { location: "http://files.example/f" },
      }),
    );
  };
  await assert.rejects(
    download("https://files.example/f", {
      dest: join(dir.path, "f"),
      fetch: fakeFetch,
      insecureHttp: true,
    }),
    /refusing a redirect from https to "http:\/\/files\.example\/f"/,
  );
  assert.deepEqual(seen, ["https://files.example/f"]);
});

Deno.test("parseMirrors() and applyMirrors() rewrite the longest matching prefix", () => {
  const m = parseMirrors(
    "https://files.pythonhosted.org=http://127.0.0.1:8080/files, https://files.pythonhosted.org/packages/x=http://m/x",
  );
  assert.equal(
    applyMirrors("https://files.pythonhosted.org/packages/a/b/f.whl", m),
    "http://127.0.0.1:8080/files/packages/a/b/f.whl",
  );
  assert.equal(
    applyMirrors("https://files.pythonhosted.org/packages/x/f.whl", m),
    "http://m/x/f.whl",
  );
  assert.equal(applyMirrors("https://github.com/a", m), "https://github.com/a");
  assert.deepEqual(parseMirrors(""), []);
  assert.throws(() => parseMirrors("nonsense"), /not FROM=TO/);
  assert.throws(() => parseMirrors("https://a=ftp://b"), /not FROM=TO/);
});

Deno.test("download() fetches through a mirror", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/mirror\/packages\/f\.whl$/, () => ok());
  const r = await download("https://files.pythonhosted.org/packages/f.whl", {
    dest: join(dir.path, "f.whl"),
    sha256: SHA,
    mirrors: parseMirrors(
      `https://files.pythonhosted.org=${server.url}/mirror`,
    ),
  });
  assert.equal(r.source, `${server.url}/mirror/packages/f.whl`);
  assert.deepEqual(server.log, ["GET /mirror/packages/f.whl"]);
});

Deno.test("download() fills the cache and serves the next download from it", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/f$/, () => ok());
  const cacheDir = join(dir.path, "cache");
  const a = await download(`${server.url}/f`, {
    dest: join(dir.path, "a", "f"),
    sha256: SHA,
    cacheDir,
  });
  const b = await download(`${server.url}/f`, {
    dest: join(dir.path, "b", "f"),
    sha256: SHA,
    cacheDir,
  });
  assert.equal(a.fromCache, false);
  assert.equal(b.fromCache, true);
  assert.equal(server.log.length, 1);
  assert.deepEqual(await Deno.readFile(join(dir.path, "b", "f")), BYTES);
  assert.deepEqual(await listDir(join(cacheDir, "sha256")), [SHA]);

  // A damaged cache entry is dropped and the file fetched again.
  await Deno.writeTextFile(join(cacheDir, "sha256", SHA), "bit rot");
  const c = await download(`${server.url}/f`, {
    dest: join(dir.path, "c", "f"),
    sha256: SHA,
    cacheDir,
  });
  assert.equal(c.fromCache, false);
  assert.equal(server.log.length, 2);
  assert.deepEqual(await Deno.readFile(join(cacheDir, "sha256", SHA)), BYTES);
});

Deno.test("defaultCacheDir() prefers COMFYKIT_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
  assert.equal(defaultCacheDir({ COMFYKIT_CACHE_DIR: "/c", HOME: "/h" }), "/c");
  assert.equal(
    defaultCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }),
    "/x/comfykit",
  );
  assert.equal(defaultCacheDir({ HOME: "/h" }), "/h/.cache/comfykit");
  assert.throws(() => new DownloadCache("/c").pathFor("../x"), /Not a sha256/);
});

Deno.test("fetchJson() parses JSON and rejects a non-JSON body", async () => {
  await using server = await startServer();
  server.route("GET", /^\/j$/, () => new Response('{"a":1}'));
  server.route("GET", /^\/h$/, () => new Response("<html>"));
  assert.deepEqual((await fetchJson(`${server.url}/j`)).data, { a: 1 });
  await assert.rejects(fetchJson(`${server.url}/h`), /response is not JSON/);
});

Deno.test("download() leaves no temp file when interrupted with SIGINT", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  let started!: () => void;
  const inFlight = new Promise<void>((r) => started = r);
  const timers: ReturnType<typeof setTimeout>[] = [];
  server.route("GET", /^\/slow$/, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(BYTES.subarray(0, 500));
          started();
          timers.push(setTimeout(() => c.close(), 10_000));
        },
      }),
    ));
  const script = join(dir.path, "dl.ts");
  await Deno.writeTextFile(
    script,
    `import { download } from "${ROOT}/lib/net/download.ts";\n` +
      `await download(Deno.args[0], { dest: Deno.args[1] });\n`,
  );
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, `${server.url}/slow`, join(out, "f.whl")],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await inFlight;
  // Wait until the temp file exists, then interrupt.
  for (let i = 0; i < 200 && (await listDir(out)).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await listDir(out)).length, 1);
  child.kill("SIGINT");
  const status = await child.output();
  timers.forEach(clearTimeout);
  assert.equal(status.code, 130);
  assert.deepEqual(await listDir(out), []);
});

Deno.test("describeError() adds fetch's cause without repeating the URL", () => {
  const e = new TypeError("fetch failed", {
    cause: new Error(
      "error sending request for url (https://x.test/a.whl): client error (Connect): dns error",
    ),
  });
  assert.equal(
    describeError(e),
    "fetch failed: client error (Connect): dns error",
  );
  assert.equal(describeError(new TypeError("body stalled")), "body stalled");
});

Deno.test("download() names the URL once in a retry and a final HTTP 5xx error", async () => {
  await using server = await startServer();
  await using dir = await tmp();
  server.route("GET", /^\/f$/, () => new Response("boom", { status: 500 }));
  const { retry } = fastRetry(2);
  const messages: string[] = [];
  const url = `${server.url}/f`;
  await assert.rejects(
    download(url, {
      dest: join(dir.path, "f"),
      sha256: SHA,
      retry,
      onRetry: (m) => messages.push(m),
    }),
    (e: Error) => {
      assert.equal(
        e.message,
        `download of ${url} failed after 2 attempts: HTTP 500`,
      );
      return true;
    },
  );
  assert.match(
    messages[0]!,
    new RegExp(`^download of ${url}: HTTP 500; retrying`),
  );
  assert.equal(messages[0]!.split(url).length, 2, "URL named once");
});
