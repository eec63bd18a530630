/**
 * Compliant baselines for the policy tests: the resources scoped-edge's dev stack declares, with the
 * deploy token exactly as the program builds it (derived grants, rotation-window expiry). Each test
 * changes one field of a baseline.
 */
import { beforeAll } from "vitest";

import { POLICY_CLOCK_ENV } from "../../policies/lib/clock";
import { deriveGrants, grantsToPolicies, type DeploymentFootprint } from "../../policies/lib/derive";
import { permissionByName } from "../../policies/lib/permission-catalog";
import {
  ACCOUNT_TOKEN_TYPE,
  CLOUDFLARE_PROVIDER_TYPE,
  KV_NAMESPACE_TYPE,
  WORKERS_ROUTE_TYPE,
  WORKERS_SCRIPT_TYPE,
} from "../../policies/lib/resource-types";
import { resourcesJson } from "../../policies/lib/resources";
import { rotationWindow, toRfc3339 } from "../../policies/lib/rotation";
import { secret, type ResourceInput } from "./harness";

/** The fixed "now" of every time-based test (inside dev rotation window 692, 2026-11-03 .. 2026-12-03). */
export const NOW = "2026-11-22T12:00:00Z";
export const NOW_DATE = new Date(NOW);

/**
 * The pack's clock is not policy config: in process, the time policies read POLICY_CLOCK_ENV (as the
 * offline plan sets it). Each test file of the pack calls this at its top so its policies judge at
 * NOW. A hook, not an assignment on import: test files share this module (vitest.config.mts), and
 * tests/setup/restore-env.ts puts process.env back after each file.
 */
export function usePolicyClock(): void {
  beforeAll(() => {
    process.env[POLICY_CLOCK_ENV] = NOW;
  });
}

const id = (suffix: string) => `0000000000000000000000000000${suffix}`;
export const IDS = {
  devAccount: id("a001"),
  devZone: id("d001"),
  stagingZone: id("d002"),
  prodAccount: id("a002"),
  prodZoneCom: id("d003"),
  prodZoneNet: id("d004"),
  otherAccount: id("ffff"),
  otherZone: id("eeee"),
} as const;

export const ACCOUNT = (accountId: string) => `com.cloudflare.api.account.${accountId}`;
export const ZONE = (zoneId: string) => `com.cloudflare.api.account.zone.${zoneId}`;

/** The catalog id of a permission name (fails the test run on a typo). */
export function perm(name: string): string {
  const group = permissionByName(name);
  if (!group) throw new Error(`no permission named ${name} in the catalog`);
  return group.id;
}

export interface TokenPolicySpec {
  readonly permissions: readonly string[];
  readonly resources: unknown;
  readonly effect?: string;
}

/** Token `policies` in the provider's shape: [{effect, permissionGroups: [{id}], resources}]. */
export function tokenPolicies(specs: readonly TokenPolicySpec[]): Record<string, unknown>[] {
  return specs.map((spec) => ({
    effect: spec.effect ?? "allow",
    permissionGroups: spec.permissions.map((name) => ({ id: perm(name) })),
    resources: spec.resources,
  }));
}

/** The dev stack's app deploy: CI deploys the code; Pulumi owns the KV namespace and the routes. */
export const DEV_FOOTPRINT: DeploymentFootprint = {
  accountId: IDS.devAccount,
  deploysCode: true,
  kvNamespacesToCreate: 0,
  routeZoneIds: [],
  zoneLookupZoneIds: [],
};

/** The schedules the committed stacks use. */
export const SCHEDULES = {
  dev: { rotationDays: 30, graceDays: 7, ttlDays: 45 },
  staging: { rotationDays: 14, graceDays: 3, ttlDays: 21 },
  prod: { rotationDays: 7, graceDays: 3, ttlDays: 14 },
} as const;

/** expiresOn as the program computes it: window start + TTL. */
export function programExpiresOn(env: keyof typeof SCHEDULES, now: Date = NOW_DATE): string {
  return toRfc3339(rotationWindow(now, SCHEDULES[env]).expiresOn);
}

/** The program's token policies for a footprint (derived grants, JSON-string resources). */
export function derivedPolicies(footprint: DeploymentFootprint): Record<string, unknown>[] {
  return tokenPolicies(
    grantsToPolicies(deriveGrants(footprint)).map((policy) => ({
      permissions: policy.permissions,
      resources: resourcesJson(policy.resources),
    })),
  );
}

/** A compliant dev deploy token's inputs (AccountToken), with a request-IP allow list. */
export function devTokenProps(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountId: IDS.devAccount,
    name: "scoped-edge-dev-deploy-692",
    policies: derivedPolicies(DEV_FOOTPRINT),
    expiresOn: programExpiresOn("dev"),
    condition: { requestIp: { ins: ["192.0.2.0/24"] } },
    ...overrides,
  };
}

export function devToken(overrides: Record<string, unknown> = {}, type = ACCOUNT_TOKEN_TYPE): ResourceInput {
  return { type, name: "deploy-token", props: devTokenProps(overrides) };
}

export function devScript(bindings?: Record<string, unknown>[]): ResourceInput {
  return {
    type: WORKERS_SCRIPT_TYPE,
    name: "edge-worker",
    props: {
      accountId: IDS.devAccount,
      scriptName: "edge-chat-dev",
      mainModule: "index.js",
      content: "export default { fetch() { return new Response('ok'); } };",
      compatibilityDate: "2026-11-01",
      bindings: bindings ?? [
        { name: "RATE_LIMIT_KV", type: "kv_namespace", namespaceId: "f00dfeedf00dfeedf00dfeedf00dfeed" },
        { name: "PROVIDER_KEY", type: "secret_text", text: secret("gsk_abcdefghijklmnopqrstuvwxyz0123") },
        { name: "ALLOWED_ORIGINS", type: "plain_text", text: "https://www.example.dev" },
      ],
    },
  };
}

export function devStack(token: ResourceInput = devToken()): ResourceInput[] {
  return [
    {
      type: CLOUDFLARE_PROVIDER_TYPE,
      name: "default_6_22_1",
      props: { apiToken: secret("cfut_0123456789abcdefghijklmnopqrstuv"), version: "6.22.1" },
    },
    devScript(),
    {
      type: KV_NAMESPACE_TYPE,
      name: "edge-worker-kv",
      props: { accountId: IDS.devAccount, title: "edge-chat-dev" },
    },
    {
      type: WORKERS_ROUTE_TYPE,
      name: "edge-worker-route-0",
      props: { zoneId: IDS.devZone, pattern: "api.example.dev/*", script: "edge-chat-dev" },
    },
    token,
  ];
}
