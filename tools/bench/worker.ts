/**
 * Benchmarks the Worker bundle: its size, and the latency it adds per request on workerd.
 *
 *   npm run bench:worker [-- --requests 400 --warmup 50]
 *
 * A fake OpenAI-compatible provider listens on 127.0.0.1. The same chat request is sent, interleaved,
 * (a) straight to the fake provider and (b) to the bundled Worker on workerd (Miniflare, local KV),
 * which checks it, counts it in KV and forwards it to the fake provider. The Worker's own added
 * latency is (b) - (a). Prints figures; asserts nothing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

import { Miniflare } from "miniflare";

import { WORKER_BINDINGS, WORKER_VAR_DEFAULTS, bundleWorker } from "../../lib/worker-bundle";

const BENCH_KEY = "gsk_bench_0000000000000000000000000000";
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
});

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
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    mean: samples.reduce((sum, x) => sum + x, 0) / samples.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
  };
}

async function timed(url: string, method: "GET" | "POST" = "POST"): Promise<number> {
  const start = performance.now();
  const response = await fetch(
    url,
    method === "GET"
      ? {}
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: REQUEST_BODY },
  );
  await response.arrayBuffer();
  const elapsed = performance.now() - start;
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return elapsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: "string", default: "400" }, warmup: { type: "string", default: "50" } },
  });
  const requests = Number(values.requests);
  const warmup = Number(values.warmup);

  const bundle = await bundleWorker();
  const bytes = Buffer.byteLength(bundle.content, "utf8");
  console.log(
    `bundle: ${bytes} bytes (${gzipSync(bundle.content, { level: 9 }).length} gzipped), sha256 ${bundle.sha256}`,
  );

  const server = createServer(fakeProvider);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const providerBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openai/v1`;

  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: bundle.mainModule, contents: bundle.content }],
    compatibilityDate: "2026-04-26",
    kvNamespaces: [WORKER_BINDINGS.kv],
    bindings: {
      ...WORKER_VAR_DEFAULTS,
      PROVIDER_BASE_URL: providerBase,
      RATE_LIMIT_REQUESTS: "100000000",
      [WORKER_BINDINGS.providerKey]: BENCH_KEY,
    },
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume(); // the Worker's one log line per request
      stderr.pipe(process.stderr);
    },
  });
  try {
    const base = await mf.ready;
    const workerUrl = new URL("/v1/chat/completions", base).href;
    const healthUrl = new URL("/health", base).href;
    const directUrl = `${providerBase}/chat/completions`;
    for (let i = 0; i < warmup; i += 1) {
      await timed(directUrl);
      await timed(workerUrl);
    }
    const direct: number[] = [];
    const viaWorker: number[] = [];
    const health: number[] = [];
    for (let i = 0; i < requests; i += 1) {
      direct.push(await timed(directUrl));
      viaWorker.push(await timed(workerUrl));
      health.push(await timed(healthUrl, "GET"));
    }
    const d = stats(direct);
    const w = stats(viaWorker);
    const h = stats(health);
    const ms = (x: number): string => x.toFixed(3).padStart(8);
    console.log(
      `requests: ${requests} sequential per path (after ${warmup} warm-up), Node ${process.version}`,
    );
    console.log(`                      mean       p50       p90       p99   (ms)`);
    console.log(`direct to provider ${ms(d.mean)}  ${ms(d.p50)}  ${ms(d.p90)}  ${ms(d.p99)}`);
    console.log(`via Worker         ${ms(w.mean)}  ${ms(w.p50)}  ${ms(w.p90)}  ${ms(w.p99)}`);
    console.log(
      `added by Worker    ${ms(w.mean - d.mean)}  ${ms(w.p50 - d.p50)}  ${ms(w.p90 - d.p90)}  ${ms(w.p99 - d.p99)}`,
    );
    console.log(
      `GET /health        ${ms(h.mean)}  ${ms(h.p50)}  ${ms(h.p90)}  ${ms(h.p99)}   (runtime round trip, no KV, no provider)`,
    );
    console.log(
      "added = Worker checks + KV rate-limit get/put + the workerd hop (Miniflare's local KV and entry proxy included).",
    );
  } finally {
    await mf.dispose();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
