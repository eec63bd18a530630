/**
 * verify-token --admin against the Cloudflare API stand-in (tests/standin, token routes from
 * tests/standin/routes/tokens.ts): the admin credential's own policies, read back, must hold every
 * grant requiredAdminGrants (lib/credentials.ts) names, zone-scoped groups on their zones included
 * (terraform-provider-cloudflare #7241); read-only calls only.
 */
import { afterEach, describe, expect, it } from "vitest";

import { requiredAdminGrants } from "../../lib/credentials";
import type { StackConfig } from "../../lib/config";
import { loadStackConfig } from "../../tools/verify/stack";
import { startStandin, type NewStandinToken, type Standin, type StandinGrant } from "../standin/server";
import { tokenRoutes, USER_RESOURCE } from "../standin/routes/tokens";
import {
  ACCOUNT_DEV,
  NOW,
  repoStack,
  runCli,
  SAAS_STACK,
  stackDir,
  ZONE_DEV,
  ZONE_SAAS,
} from "../verify-token/fixtures";

const ADMIN = "Adm1n_t0ken-Value-9f8e7d6c5b4a39281706ab";
const ADMIN_ID = "ad000000000000000000000000000001";

/** The grants requiredAdminGrants names, as token grants (a user-level one on the stand-in's user). */
function adminGrants(config: StackConfig): StandinGrant[] {
  return requiredAdminGrants(config).map((grant) => ({
    permission: grant.permission,
    resource: grant.resource ?? USER_RESOURCE,
  }));
}

const servers: Standin[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(admin: Partial<NewStandinToken> & Pick<NewStandinToken, "grants">): Promise<Standin> {
  const server = await startStandin({ routes: tokenRoutes({ now: () => NOW }) });
  server.addToken({
    value: ADMIN,
    id: ADMIN_ID,
    name: "ci-admin",
    owner: { kind: "account", accountId: ACCOUNT_DEV },
    expiresOn: "2027-01-01T00:00:00Z",
    ...admin,
  });
  servers.push(server);
  return server;
}

async function verifyAdmin(server: Standin, stack: string, root?: string) {
  const run = await runCli(["--api-base-url", server.baseUrl, "--stack", stack, "--admin"], {
    env: { CLOUDFLARE_ADMIN_API_TOKEN: ADMIN, CLOUDFLARE_API_TOKEN: "the-deploy-token-is-not-used-here" },
    ...(root === undefined ? {} : { root }),
  });
  expect(run.stdout + run.stderr).not.toContain(ADMIN);
  expect(server.requests.every((request) => request.method === "GET")).toBe(true);
  return run;
}

const failing = (lines: string[]) => lines.filter((line) => line.startsWith("FAIL"));

describe("verify-token --admin", () => {
  it("passes an account-owned admin credential holding exactly what the stack needs", async () => {
    const dev = repoStack("dev");
    const server = await serve({ grants: adminGrants(dev) });
    const run = await verifyAdmin(server, "dev");
    expect(run.stderr).toBe("");
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.lines).toContain(
      `PASS admin holds Account API Tokens Write on com.cloudflare.api.account.${ACCOUNT_DEV}: expected an allow policy covering it, no deny; got held — creates, rotates and deletes the account-owned deploy token and lists the account's permission groups`,
    );
    expect(server.requests.map((request) => request.operationId)).toEqual([
      "account-api-tokens-verify-token",
      "account-api-tokens-token-details",
      "account-api-tokens-list-tokens",
    ]);
    expect(run.lines.at(-1)).toBe(`${run.lines.length - 1} passed, 0 failed`);
  });

  it("fails when a zone-scoped group of the deploy token is not held on its zone (#7241)", async () => {
    const root = stackDir({ saas: SAAS_STACK });
    const saas = loadStackConfig(root, "saas");
    const zoneRoutes = `com.cloudflare.api.account.zone.${ZONE_DEV}`;
    expect(adminGrants(saas)).toContainEqual({ permission: "Workers Routes Write", resource: zoneRoutes });
    const grants = adminGrants(saas).filter(
      (grant) => !(grant.permission === "Workers Routes Write" && grant.resource === zoneRoutes),
    );
    // A user token as admin: the account verify form refuses it, the user form knows it.
    const server = await serve({ owner: { kind: "user" }, grants });
    const run = await verifyAdmin(server, "saas", root);
    expect(run.code).toBe(1);
    const [line, ...others] = failing(run.lines);
    expect(others).toEqual([]);
    expect(line).toContain(
      `FAIL admin holds Workers Routes Write on ${zoneRoutes}: expected an allow policy covering it`,
    );
    expect(line).toContain("terraform-provider-cloudflare #7241");
    expect(line).toContain(`missing: Workers Routes Write on ${zoneRoutes}`);
    expect(run.lines[0]).toContain("PASS verify endpoint (admin credential, user-owned)");
    expect(run.lines).toContain(
      "PASS admin holds API Tokens Write on the credential's own user: expected an allow policy covering it, no deny; got held — creates, rotates and deletes the user-owned deploy token and lists the permission groups",
    );
    expect(
      run.lines.some((l) =>
        l.includes(`SSL and Certificates Write on com.cloudflare.api.account.zone.${ZONE_SAAS}`),
      ),
    ).toBe(true);
  });

  it("accepts an all-zones grant for the zone-scoped groups", async () => {
    const root = stackDir({ saas: SAAS_STACK });
    const saas = loadStackConfig(root, "saas");
    const grants = [
      ...adminGrants(saas).filter((grant) => !grant.resource.startsWith("com.cloudflare.api.account.zone.")),
      ...[
        ...new Set(
          adminGrants(saas)
            .filter((g) => g.resource.includes(".zone."))
            .map((g) => g.permission),
        ),
      ].map((permission) => ({ permission, resource: "com.cloudflare.api.account.zone.*" })),
    ];
    const server = await serve({ owner: { kind: "user" }, grants });
    const run = await verifyAdmin(server, "saas", root);
    expect(failing(run.lines)).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("fails a credential that can read tokens but not write them, naming Account API Tokens Write", async () => {
    const dev = repoStack("dev");
    const grants = adminGrants(dev).map((grant) =>
      grant.permission === "Account API Tokens Write"
        ? { ...grant, permission: "Account API Tokens Read" }
        : grant,
    );
    const server = await serve({ grants });
    const run = await verifyAdmin(server, "dev");
    const lines = failing(run.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `FAIL admin holds Account API Tokens Write on com.cloudflare.api.account.${ACCOUNT_DEV}`,
    );
    expect(lines[0]).toContain("fix: give the admin credential these permissions");
    expect(run.code).toBe(1);
  });

  it("fails a credential without any token permission: it cannot even read its own policies", async () => {
    const dev = repoStack("dev");
    const grants = adminGrants(dev).filter((grant) => !grant.permission.includes("API Tokens"));
    const server = await serve({ grants });
    const run = await verifyAdmin(server, "dev");
    const [line, ...others] = failing(run.lines);
    expect(others).toEqual([]);
    expect(line).toContain("FAIL read the admin credential's own policies");
    expect(line).toContain("got 403 (code 10000: Authentication error)");
    expect(line).toContain(`missing: Account API Tokens Write on com.cloudflare.api.account.${ACCOUNT_DEV}`);
    expect(run.code).toBe(1);
  });

  it("fails clearly on a credential Cloudflare does not know", async () => {
    const server = await serve({ grants: [] });
    const run = await runCli(["--api-base-url", server.baseUrl, "--stack", "dev", "--admin"], {
      env: { CLOUDFLARE_ADMIN_API_TOKEN: "not-a-known-token-value-00000000" },
    });
    expect(run.lines[0]).toContain("FAIL verify endpoint (admin credential)");
    expect(run.lines[0]).toContain(
      "account: 400 (code 1000: Invalid API Token); user: 400 (code 1000: Invalid API Token)",
    );
    expect(run.lines[0]).toContain(
      "fix: export the admin API token (never a Global API Key) as CLOUDFLARE_ADMIN_API_TOKEN",
    );
    expect(run.lines.at(-1)).toBe("0 passed, 1 failed");
    expect(run.code).toBe(1);
  });
});
