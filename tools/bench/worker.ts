/**
 * Benchmarks the Worker as it ships: bundle size, the latency it adds per request, and a load test.
 *
 *   npm run bench:worker [-- --requests 3000 --warmup 300 --clients 50 --interval 1000]
 *
 * One workerd (Miniflare) runs three Workers, each on its own socket (no Miniflare entry proxy):
 *   - "scoped-edge": the minified bundle (lib/worker-bundle.ts) with RATE_LIMITER at a limit no
 *     latency run reaches and CONFIG_KV empty (the vars apply);
 *   - "pass-through": a trivial Worker that forwards the request body to the provider and returns its
 *     answer: the workerd hop and the outbound fetch, nothing else;
 *   - "scoped-edge-limited": the same bundle with RATE_LIMITER at RATE_LIMIT_DEFAULTS, for the load test.
 * A fake OpenAI-compatible provider (its own thread) listens on 127.0.0.1, and the clients run in a
 * thread of their own, so neither shares an event loop with Miniflare (which reads workerd's log lines).
 *
 * The Worker's own cost is its latency minus the pass-through Worker's, measured in the same run on the
 * same workerd, in rounds (one request to each path, back to back, the order rotating from round to
 * round), the goal on the median over the rounds:
 *   - sequential: one request at a time;
 *   - concurrent: `clients` clients at once, each sending a round every `interval` ms (an offered load
 *     below saturation, so the figure is latency, not queueing);
 *   - saturated: `clients` clients sending back to back, reported as throughput (there, every request
 *     waits for the ones ahead of it, and latency is clients x cost).
 * The direct call to the provider is reported for scale. Prints figures; asserts nothing (the goals
 * are printed next to them).
 */
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
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

/** The fake provider, in a thread of its own: reads the request, answers with a fixed completion. */
const PROVIDER_THREAD = `
const { createServer } = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    if (request.method !== "POST" || request.url !== "/openai/v1/chat/completions") {
      response.writeHead(404).end();
      return;
    }
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    response.writeHead(200, { "Content-Type": "application/json" }).end(workerData.completion);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", () => server.close(() => parentPort.close()));
`;

/**
 * The clients, in a thread of their own. Each job: { kind, urls, n, clients, interval, body, ips }.
 * Answers { samples: number[][] (per url, ms), statuses: number[] (load), elapsed }.
 */
const CLIENT_THREAD = `
const { parentPort } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
async function send(url, body, ip) {
  const start = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: ip === undefined ? { "Content-Type": "application/json" } : { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body,
  });
  await response.arrayBuffer();
  return { ms: performance.now() - start, status: response.status };
}
async function timed(url, body) {
  const { ms, status } = await send(url, body);
  if (status !== 200) throw new Error(url + " answered " + status);
  return ms;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
parentPort.on("message", async (job) => {
  const started = performance.now();
  // rounds[r][k]: the latency of url k in round r (one request to each url, back to back).
  const rounds = [];
  let statuses = [];
  const round = async (i) => {
    const times = new Array(job.urls.length);
    for (let j = 0; j < job.urls.length; j += 1) {
      const k = (i + j) % job.urls.length; // the order rotates from round to round
      times[k] = await timed(job.urls[k], job.body);
    }
    rounds.push(times);
  };
  if (job.kind === "sequential") {
    for (let i = 0; i < job.n; i += 1) await round(i);
  } else if (job.kind === "paced") {
    // Each client, from a random start, runs a round every interval ms (at once when late).
    await Promise.all(Array.from({ length: job.clients }, async (_, c) => {
      await sleep(Math.random() * job.interval);
      for (let i = 0; i < job.n; i += 1) {
        const next = performance.now() + job.interval;
        await round(i + c);
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
      }
    }));
  } else if (job.kind === "saturated") {
    // Clients back to back against one url at a time: the elapsed time per url.
    const elapsed = [];
    for (let k = 0; k < job.urls.length; k += 1) {
      const start = performance.now();
      await Promise.all(Array.from({ length: job.clients }, async () => {
        for (let i = 0; i < job.n; i += 1) await timed(job.urls[k], job.body);
      }));
      elapsed.push(performance.now() - start);
    }
    rounds.push(elapsed);
  } else if (job.kind === "load") {
    const outcomes = await Promise.all(job.ips.flatMap((ip) =>
      Array.from({ length: job.n }, () => send(job.urls[0], job.body, ip))));
    statuses = outcomes.map((o) => o.status);
  }
  parentPort.postMessage({ rounds, statuses, elapsed: performance.now() - started });
});
`;

interface Job {
  kind: "sequential" | "paced" | "saturated" | "load";
  urls: string[];
  n: number;
  clients?: number;
  interval?: number;
  ips?: string[];
}
interface JobResult {
  rounds: number[][];
  statuses: number[];
  elapsed: number;
}

function run(client: Worker, job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    client.once("message", resolve);
    client.once("error", reject);
    client.postMessage({ ...job, body: REQUEST_BODY });
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

const ms = (x: number): string => x.toFixed(3).padStart(8);

/**
 * Prints the three paths and the Worker's added latency. Each round sends one request to every path,
 * back to back, so the two requests of a pair share whatever else the machine was doing then: the
 * added latency of a round is its Worker time minus its pass-through time, and the goal is on the
 * median of those. The difference of the two paths' own figures is printed too.
 */
function table(title: string, names: readonly string[], rounds: readonly number[][]): number {
  const rows = names.map((_, k) => stats(rounds.map((round) => round[k]!)));
  const line = (name: string, s: Stats, n = String(s.n)): string =>
    `${name.padEnd(34)}${n.padStart(6)}  ${ms(s.mean)}  ${ms(s.p50)}  ${ms(s.p90)}  ${ms(s.p99)}`;
  console.log(`\n${title}`);
  console.log(`${"".padEnd(34)}     n      mean       p50       p90       p99   (ms)`);
  rows.forEach((s, i) => console.log(line(names[i]!, s)));
  const [, pass, worker] = rows as [Stats, Stats, Stats];
  const added = stats(rounds.map((round) => round[2]! - round[1]!));
  console.log(
    `${line("added (Worker - pass, per round)", added)}   goal p50 <= ${ADDED_P50_GOAL_MS} ms: ${added.p50 <= ADDED_P50_GOAL_MS ? "met" : "MISSED"}`,
  );
  const difference = {
    n: added.n,
    mean: worker.mean - pass.mean,
    p50: worker.p50 - pass.p50,
    p90: worker.p90 - pass.p90,
    p99: worker.p99 - pass.p99,
  };
  console.log(line("difference of the two rows", difference, ""));
  return added.p50;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "3000" },
      warmup: { type: "string", default: "300" },
      clients: { type: "string", default: "50" },
      interval: { type: "string", default: "1000" },
    },
  });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);
  const clients = Number(values.clients);
  const interval = Number(values.interval);

  const bundle = await bundleWorker();
  const bytes = Buffer.byteLength(bundle.content, "utf8");
  console.log(
    `bundle: ${bytes} bytes minified (${gzipSync(bundle.content, { level: 9 }).length} gzipped; goal <= ${BUNDLE_GOAL_BYTES}: ` +
      `${bytes <= BUNDLE_GOAL_BYTES ? "met" : "MISSED"}), source map ${Buffer.byteLength(bundle.sourceMap, "utf8")} bytes, sha256 ${bundle.sha256}`,
  );

  const provider = new Worker(PROVIDER_THREAD, { eval: true, workerData: { completion: COMPLETION } });
  const port = await new Promise<number>((resolve) => provider.once("message", resolve));
  const providerBase = `http://127.0.0.1:${port}/openai/v1`;
  const directUrl = `${providerBase}/chat/completions`;
  const client = new Worker(CLIENT_THREAD, { eval: true });

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
    const names = ["direct to provider", "pass-through Worker", "scoped-edge Worker"];
    const urls = [directUrl, await chat("pass-through"), await chat("scoped-edge")];
    const limitedUrl = await chat("scoped-edge-limited");

    console.log(
      `\nworkerd ${COMPATIBILITY_DATE} (Miniflare), Node ${process.version}, ${clients} clients where concurrent; ` +
        `loopback provider; ${warmup} warm-up requests per path first`,
    );
    await run(client, { kind: "sequential", urls, n: warmup });
    const sequential = await run(client, { kind: "sequential", urls, n: requests });
    const sequentialAdded = table(
      `sequential: ${requests} requests per path, one at a time`,
      names,
      sequential.rounds,
    );

    const each = Math.max(1, Math.round(requests / clients));
    const paced = await run(client, { kind: "paced", urls, n: each, clients, interval });
    const offered = (clients * urls.length * 1000) / interval;
    const pacedAdded = table(
      `concurrent: ${clients} clients, each a round (one request per path) every ${interval} ms, ${offered.toFixed(0)} requests/s offered`,
      names,
      paced.rounds,
    );

    const burst = Math.max(1, Math.round(requests / clients / 2));
    const saturated = await run(client, { kind: "saturated", urls, n: burst, clients });
    console.log(`\nsaturated: ${clients} clients back to back, ${clients * burst} requests per path`);
    saturated.rounds[0]!.forEach((elapsed, i) =>
      console.log(
        `${names[i]!.padEnd(26)}${((clients * burst * 1000) / elapsed).toFixed(0).padStart(8)} requests/s`,
      ),
    );

    // Load test on the real limit: 40 IPv4 clients and 10 addresses of one IPv6 /64, each sending
    // 30 requests at once, all within one window of the binding.
    const perClient = 30;
    const ipv4 = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const ipv6 = Array.from({ length: 10 }, (_, i) => `2001:db8:77:1::${(i + 1).toString(16)}`);
    const expected = {
      served: (ipv4.length + 1) * RATE_LIMIT_DEFAULTS.limit,
      limited: (ipv4.length + ipv6.length) * perClient - (ipv4.length + 1) * RATE_LIMIT_DEFAULTS.limit,
    };
    const windowMs = RATE_LIMIT_DEFAULTS.periodSeconds * 1000;
    const untilNext = windowMs - (Date.now() % windowMs);
    if (untilNext < 15_000) await new Promise((resolve) => setTimeout(resolve, untilNext + 50));
    const window = Math.floor(Date.now() / windowMs);
    const load = await run(client, {
      kind: "load",
      urls: [limitedUrl],
      n: perClient,
      ips: [...ipv4, ...ipv6],
    });
    const sameWindow = Math.floor(Date.now() / windowMs) === window;
    const count = (test: (status: number) => boolean): number => load.statuses.filter(test).length;
    const figures = {
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
      `  ${load.statuses.length} requests in ${load.elapsed.toFixed(0)} ms: served ${figures.served} (expected ${expected.served}), ` +
        `429 ${figures.limited} (expected ${expected.limited}), 5xx ${figures.failed}, other ${figures.other}` +
        `${sameWindow ? "" : "  [crossed a window boundary: rerun]"}`,
    );
    const exact =
      figures.served === expected.served && figures.limited === expected.limited && figures.failed === 0;
    console.log(`  exact limit under concurrency, zero 5xx: ${exact ? "met" : "MISSED"}`);

    console.log(
      `\nsummary: bundle ${bytes} B; added latency p50 ${sequentialAdded.toFixed(3)} ms sequential, ${pacedAdded.toFixed(3)} ms ` +
        `with ${clients} concurrent clients; load test served ${figures.served}, 429 ${figures.limited}, 5xx ${figures.failed}`,
    );
    if (stderr.trim() !== "") console.log(`\nworkerd stderr:\n${stderr}`);
  } finally {
    await mf.dispose();
    await client.terminate();
    provider.postMessage("stop");
    await new Promise((resolve) => provider.once("exit", resolve));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
