/** Shared fixtures for the token verifier's tests: stacks, a fake-API world, tokens, a CLI runner. */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";

import type { StackConfig } from "../../lib/config";
import { main } from "../../tools/verify/cli";
import { stackGrants } from "../../tools/verify/probes";
import type { RetryPolicy } from "../../tools/verify/retry";
import { loadStackConfig } from "../../tools/verify/stack";
import { rotationWindow, toRfc3339 } from "../../policies/lib/rotation";
import type { FakeGrant, FakeToken, FakeZone } from "./fake-cloudflare";

export const REPO_ROOT = resolve(__dirname, "../..");
export const NOW = new Date("2026-11-22T12:00:00Z");

export const ACCOUNT_DEV = "0000000000000000000000000000a001";
export const ACCOUNT_PROD = "0000000000000000000000000000a002";
export const ACCOUNT_OTHER = "0000000000000000000000000000a0ff";
export const ZONE_DEV = "0000000000000000000000000000d001";
export const ZONE_STAGING = "0000000000000000000000000000d002";
export const ZONE_COM = "0000000000000000000000000000d003";
export const ZONE_NET = "0000000000000000000000000000d004";
export const ZONE_SAAS = "0000000000000000000000000000d005";
export const ZONE_OTHER = "0000000000000000000000000000d0ff";

export const ZONES: FakeZone[] = [
  { id: ZONE_DEV, name: "example.dev", accountId: ACCOUNT_DEV },
  { id: ZONE_STAGING, name: "example-staging.com", accountId: ACCOUNT_DEV },
  { id: ZONE_COM, name: "example.com", accountId: ACCOUNT_PROD },
  { id: ZONE_NET, name: "example.net", accountId: ACCOUNT_PROD },
  { id: ZONE_SAAS, name: "saas.example", accountId: ACCOUNT_DEV },
  { id: ZONE_OTHER, name: "unrelated.example", accountId: ACCOUNT_OTHER },
];
export const ACCOUNTS = [ACCOUNT_DEV, ACCOUNT_PROD, ACCOUNT_OTHER];

/** Looks like a real Cloudflare token: 40 characters of [A-Za-z0-9_-]. */
export const TOKEN = "Zq8_k3Lr-Vt0pXw2yN5mB7cD9fG1hJ4sA6eU8iO0";

/** Fast retries for tests: the behaviour is the same, only the waits are short. */
export const FAST_RETRY: Partial<RetryPolicy> = {
  attempts: 3,
  baseDelayMs: 5,
  maxDelayMs: 3_000,
  timeoutMs: 2_000,
};

/** A directory with the repo's Pulumi.yaml and the given stack files. */
export function stackDir(stacks: Record<string, Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), "verify-token-"));
  copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  for (const [name, config] of Object.entries(stacks)) {
    writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config }));
  }
  return dir;
}

/**
 * A stack with everything: user-owned token, routes deployed by CI (so route grants), R2, custom
 * hostnames, extra permissions.
 */
export const SAAS_STACK: Record<string, unknown> = {
  "scoped-edge:environment": "staging",
  "scoped-edge:routesDeployedBy": "ci",
  "scoped-edge:accountId": ACCOUNT_DEV,
  "scoped-edge:zones": [
    { name: "example.dev", id: ZONE_DEV, routes: ["api.example.dev/*"] },
    { name: "saas.example", id: ZONE_SAAS, customHostnames: ["app.customer.example"] },
  ],
  "scoped-edge:workerName": "edge-chat-saas",
  "scoped-edge:r2Bucket": "edge-assets",
  "scoped-edge:tokenOwner": "user",
  "scoped-edge:tokenTtlDays": 21,
  "scoped-edge:rotationDays": 14,
  "scoped-edge:rotationGraceDays": 3,
  "scoped-edge:extraPermissions": ["Workers Tail Read", "DNS Read"],
  "scoped-edge:githubRepository": "example-org/edge-app",
};

export function repoStack(name: string): StackConfig {
  return loadStackConfig(REPO_ROOT, name);
}

/** The grants the stack's own token carries. */
export function rightSizedGrants(config: StackConfig): FakeGrant[] {
  return stackGrants(config).map(({ permission, resource }) => ({ permission, resource }));
}

/** The token `pulumi up` would have issued for this stack at `now`. */
export function stackToken(config: StackConfig, overrides: Partial<FakeToken> = {}, now = NOW): FakeToken {
  const window = rotationWindow(now, {
    rotationDays: config.token.rotationDays,
    ttlDays: config.token.ttlDays,
    graceDays: config.token.graceDays,
  });
  return {
    value: TOKEN,
    id: "f267e341f3dd4697bd3b9f71dd96247f",
    owner: config.token.owner,
    ...(config.token.owner === "account" ? { accountId: config.accountId } : {}),
    status: "active",
    expiresOn: toRfc3339(window.expiresOn),
    grants: rightSizedGrants(config),
    ...overrides,
  };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
  readonly ms: number;
}

export async function runCli(
  argv: readonly string[],
  options: {
    root?: string;
    env?: Record<string, string | undefined>;
    retry?: Partial<RetryPolicy>;
    now?: Date;
  } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const started = Date.now();
  const code = await main(argv, {
    env: options.env ?? { CLOUDFLARE_API_TOKEN: TOKEN },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    root: options.root ?? REPO_ROOT,
    retry: options.retry ?? FAST_RETRY,
    now: () => options.now ?? NOW,
  });
  return {
    code,
    stdout,
    stderr,
    lines: stdout.split("\n").filter((line) => line !== ""),
    ms: Date.now() - started,
  };
}
