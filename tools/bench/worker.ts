/**
 * Benchmarks the Worker as it ships: bundle size, the latency it adds per request, and a load test.
 *
 *   npm run bench:worker [-- --requests 1000 --warmup 200 --clients 50 --rounds 6]
 *
 * One workerd (Miniflare) runs three Workers, each on its own socket (no Miniflare entry proxy):
 *   - "scoped-edge": the minified bundle (lib/worker-bundle.ts), RATE_LIMITER with a limit no test
 *     reaches, CONFIG_KV empty (the vars apply);
 *   - "pass-through": a trivial Worker that forwards the request body to the provider and returns its
 *     answer: the workerd hop and the outbound fetch, nothing else;
 *   - "scoped-edge-limited": the same bundle with RATE_LIMITER at RATE_LIMIT_DEFAULTS, for the load test.
 * A fake OpenAI-compatible provider listens on 127.0.0.1. The Worker's own cost is the difference
 * between it and the pass-through Worker measured in the same run (interleaved), sequentially and
 * with concurrent clients; the direct call to the provider is reported for scale. Prints figures;
 * asserts nothing (the goals are printed next to them).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

import { Miniflare } from "miniflare";

import {
  COMPATIBILITY_DATE,
  COMPATIBILITY_FLAGS,
  RATE_LIMIT_DEFAULTS,
  WORKER_BINDINGS,
  WORKER_VAR_DEFAULTS,
  bundleWorker,
} from "../../lib/worker-bundle";

const BENCH_KEY = "gsk_bench_0000000000000000000000000000";
const BUNDLE_GOAL_BYTES = 20_000;
const ADDED_P50_GOAL_MS = 0.3;

const COMPLETION = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_790_000_000,
  model: WORKER_VAR_DEFAULTS.DEFAULT_MODEL,
  choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});
const REQUEST_BODY = JSON.stringify({
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "ping" },
  ],
  max_tokens: 16,
});

/** The trivial Worker the Worker is compared with: forward the body, return the answer. */
const PASS_THROUGH = `export default {
  fetch(request, env) {
    return fetch(env.UPSTREAM, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + env.PROVIDER_KEY },
      body: request.body,
    });
  },
};`;

function fakeProvider(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (request.method !== "POST" || request.url !== "/openai/v1/chat/completions") {
      response.writeHead(404).end();
      return;
    }
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    response.writeHead(200, { "Content-Type": "application/json" }).end(COMPLETION);
  });
}

interface Stats {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    n: samples.length,
    mean: samples.reduce((sum, x) => sum + x, 0) / samples.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
  };
}

async function send(url: string, ip?: string): Promise<{ ms: number; status: number }> {
  const start = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(ip === undefined ? {} : { "CF-Connecting-IP": ip }) },
    body: REQUEST_BODY,
  });
  await response.arrayBuffer();
  return { ms: performance.now() - start, status: response.status };
}

async function timed(url: string): Promise<number> {
  const { ms, status } = await send(url);
  if (status !== 200) throw new Error(`${url} answered ${status}`);
  return ms;
}

const ms = (x: number): string => x.toFixed(3).padStart(8);

function table(title: string, rows: readonly [string, Stats][], passThrough: Stats, worker: Stats): void {
  console.log(`\n${title}`);
  console.log(`${"".padEnd(26)}     n      mean       p50       p90       p99   (ms)`);
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(26)}${String(s.n).padStart(6)}  ${ms(s.mean)}  ${ms(s.p50)}  ${ms(s.p90)}  ${ms(s.p99)}`,
    );
  }
  const added = {
    mean: worker.mean - passThrough.mean,
    p50: worker.p50 - passThrough.p50,
    p90: worker.p90 - passThrough.p90,
    p99: worker.p99 - passThrough.p99,
  };
  console.log(
    `${"added over pass-through".padEnd(26)}${"".padStart(6)}  ${ms(added.mean)}  ${ms(added.p50)}  ${ms(added.p90)}  ${ms(added.p99)}` +
      `   goal p50 <= ${ADDED_P50_GOAL_MS} ms: ${added.p50 <= ADDED_P50_GOAL_MS ? "met" : "MISSED"}`,
  );
}

/** `clients` concurrent loops of `each` sequential requests to `url`; the latency of every request. */
async function concurrent(url: string, clients: number, each: number): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < each; i += 1) samples.push(await timed(url));
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "1000" },
      warmup: { type: "string", default: "200" },
      clients: { type: "string", default: "50" },
      rounds: { type: "string", default: "6" },
    },
  });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const clients = Number(values.clients);
  const rounds = Number(values.rounds);

  const bundle = await bundleWorker();
  const bytes = Buffer.byteLength(bundle.content, "utf8");
  console.log(
    `bundle: ${bytes} bytes minified (${gzipSync(bundle.content, { level: 9 }).length} gzipped; goal <= ${BUNDLE_GOAL_BYTES}: ` +
      `${bytes <= BUNDLE_GOAL_BYTES ? "met" : "MISSED"}), source map ${Buffer.byteLength(bundle.sourceMap, "utf8")} bytes, sha256 ${bundle.sha256}`,
  );

  const server = createServer(fakeProvider);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const providerBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openai/v1`;
  const directUrl = `${providerBase}/chat/completions`;

  const module = { type: "ESModule" as const, path: bundle.mainModule, contents: bundle.content };
  const vars = {
    ...WORKER_VAR_DEFAULTS,
    PROVIDER_BASE_URL: providerBase,
    [WORKER_BINDINGS.providerKey]: BENCH_KEY,
  };
  const platform = { compatibilityDate: COMPATIBILITY_DATE, compatibilityFlags: [...COMPATIBILITY_FLAGS] };
  const direct = [{ port: 0 }];
  let stderr = "";
  const mf = new Miniflare({
    workers: [
      {
        name: "scoped-edge",
        modules: [module],
        ...platform,
        kvNamespaces: [WORKER_BINDINGS.kv],
        ratelimits: { [WORKER_BINDINGS.rateLimiter]: { simple: { limit: 1_000_000_000, period: 60 } } },
        bindings: vars,
        unsafeDirectSockets: direct,
      },
      {
        name: "pass-through",
        modules: [{ type: "ESModule", path: "pass-through.js", contents: PASS_THROUGH }],
        ...platform,
        bindings: { UPSTREAM: directUrl, [WORKER_BINDINGS.providerKey]: BENCH_KEY },
        unsafeDirectSockets: direct,
      },
      {
        name: "scoped-edge-limited",
        modules: [module],
        ...platform,
        kvNamespaces: [WORKER_BINDINGS.kv],
        ratelimits: {
          [WORKER_BINDINGS.rateLimiter]: {
            simple: { limit: RATE_LIMIT_DEFAULTS.limit, period: RATE_LIMIT_DEFAULTS.periodSeconds },
          },
        },
        bindings: vars,
        unsafeDirectSockets: direct,
      },
    ],
    handleRuntimeStdio(out: Readable, err: Readable) {
      out.resume(); // the Worker's one log line per request
      err.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    },
  });
  try {
    await mf.ready;
    const chat = async (name: string): Promise<string> =>
      new URL("/v1/chat/completions", await mf.unsafeGetDirectURL(name)).href;
    const workerUrl = await chat("scoped-edge");
    const passUrl = await chat("pass-through");
    const limitedUrl = await chat("scoped-edge-limited");
    const paths: [string, string][] = [
      ["direct to provider", directUrl],
      ["pass-through Worker", passUrl],
      ["scoped-edge Worker", workerUrl],
    ];

    // Sequential: one request at a time, the three paths interleaved (order rotated every round).
    for (let i = 0; i < warmup; i += 1) for (const [, url] of paths) await timed(url);
    const sequential = new Map<string, number[]>(paths.map(([name]) => [name, []]));
    for (let i = 0; i < requests; i += 1) {
      for (let j = 0; j < paths.length; j += 1) {
        const [name, url] = paths[(i + j) % paths.length]!;
        sequential.get(name)!.push(await timed(url));
      }
    }
    console.log(
      `\nworkerd ${COMPATIBILITY_DATE} (Miniflare), Node ${process.version}; loopback provider; ` +
        `${requests} requests per path after ${warmup} warm-up`,
    );
    const seqStats = paths.map(([name]) => [name, stats(sequential.get(name)!)] as [string, Stats]);
    table("sequential (one client)", seqStats, seqStats[1]![1], seqStats[2]![1]);

    // Concurrent: `clients` loops at once against one path, alternating paths over the rounds.
    const each = Math.max(1, Math.round(requests / clients));
    await concurrent(passUrl, clients, 4);
    await concurrent(workerUrl, clients, 4);
    const loaded = new Map<string, number[]>(paths.map(([name]) => [name, []]));
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const [name, url] of order) loaded.get(name)!.push(...(await concurrent(url, clients, each)));
    }
    const conStats = paths.map(([name]) => [name, stats(loaded.get(name)!)] as [string, Stats]);
    table(
      `${clients} concurrent clients (${rounds} rounds of ${clients} x ${each})`,
      conStats,
      conStats[1]![1],
      conStats[2]![1],
    );

    // Load test on the real limit: 40 IPv4 clients and 10 addresses of one IPv6 /64, each sending
    // 30 requests at once, all within one 60 s window.
    const perClient = 30;
    const ipv4 = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const ipv6 = Array.from({ length: 10 }, (_, i) => `2001:db8:77:1::${(i + 1).toString(16)}`);
    const expected = {
      served: ipv4.length * RATE_LIMIT_DEFAULTS.limit + RATE_LIMIT_DEFAULTS.limit,
      limited: (ipv4.length + ipv6.length) * perClient - (ipv4.length + 1) * RATE_LIMIT_DEFAULTS.limit,
    };
    const windowMs = RATE_LIMIT_DEFAULTS.periodSeconds * 1000;
    const untilNext = windowMs - (Date.now() % windowMs);
    if (untilNext < 15_000) await new Promise((resolve) => setTimeout(resolve, untilNext + 50));
    const window = Math.floor(Date.now() / windowMs);
    const started = performance.now();
    const outcomes = await Promise.all(
      [...ipv4, ...ipv6].flatMap((ip) => Array.from({ length: perClient }, () => send(limitedUrl, ip))),
    );
    const elapsed = performance.now() - started;
    const sameWindow = Math.floor(Date.now() / windowMs) === window;
    const count = (test: (status: number) => boolean): number =>
      outcomes.filter((o) => test(o.status)).length;
    const load = {
      served: count((s) => s === 200),
      limited: count((s) => s === 429),
      failed: count((s) => s >= 500),
      other: count((s) => s !== 200 && s !== 429 && s < 500),
    };
    console.log(
      `\nload test: RATE_LIMITER ${RATE_LIMIT_DEFAULTS.limit} per ${RATE_LIMIT_DEFAULTS.periodSeconds} s; ` +
        `${ipv4.length} IPv4 clients + ${ipv6.length} addresses of one IPv6 /64, ${perClient} requests each, all at once`,
    );
    console.log(
      `  ${outcomes.length} requests in ${elapsed.toFixed(0)} ms: served ${load.served} (expected ${expected.served}), ` +
        `429 ${load.limited} (expected ${expected.limited}), 5xx ${load.failed}, other ${load.other}` +
        `${sameWindow ? "" : "  [crossed a window boundary: rerun]"}`,
    );
    const exact = load.served === expected.served && load.limited === expected.limited && load.failed === 0;
    console.log(`  exact limit under concurrency, zero 5xx: ${exact ? "met" : "MISSED"}`);
    if (stderr.trim() !== "") console.log(`\nworkerd stderr:\n${stderr}`);
  } finally {
    await mf.dispose();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
