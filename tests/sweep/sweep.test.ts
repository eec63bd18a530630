/**
 * sweep-tokens against the Cloudflare API stand-in (tests/standin, token routes from
 * tests/standin/routes/tokens.ts with the groups account-api-tokens-* / user-api-tokens-* publish):
 * a dry run deletes nothing; --delete deletes exactly this stack's expired or disabled tokens; a
 * credential without the permission fails clearly.
 */
import { afterEach, describe, expect, it } from "vitest";

import { sweepMain } from "../../tools/sweep/cli";
import { stackTokenName } from "../../tools/sweep/sweep";
import { loadStackConfig } from "../../tools/verify/stack";
import { startStandin, type NewStandinToken, type Standin, type StandinGrant } from "../standin/server";
import { tokenRoutes, USER_RESOURCE } from "../standin/routes/tokens";
import {
  ACCOUNT_DEV,
  FAST_RETRY,
  NOW,
  REPO_ROOT,
  repoStack,
  SAAS_STACK,
  stackDir,
} from "../verify-token/fixtures";

const ADMIN = "Adm1n_t0ken-Value-9f8e7d6c5b4a39281706ab";
const DAY = 86_400_000;
const iso = (offsetDays: number) =>
  new Date(NOW.getTime() + offsetDays * DAY).toISOString().replace(/\.\d{3}Z$/, "Z");
const hexId = (n: number) => n.toString(16).padStart(32, "0");

const ACCOUNT_TOKENS_WRITE: StandinGrant = {
  permission: "Account API Tokens Write",
  resource: `com.cloudflare.api.account.${ACCOUNT_DEV}`,
};

function accountToken(n: number, name: string, overrides: Partial<NewStandinToken> = {}): NewStandinToken {
  return {
    value: `value-of-token-${n}-xxxxxxxxxxxxxxxxxxxxxx`,
    id: hexId(n),
    name,
    owner: { kind: "account", accountId: ACCOUNT_DEV },
    status: "active",
    expiresOn: iso(30),
    grants: [],
    ...overrides,
  };
}

/** The world: dev's tokens in every state, other stacks' tokens, look-alikes. */
function world(adminGrants: StandinGrant[] = [ACCOUNT_TOKENS_WRITE]): NewStandinToken[] {
  return [
    accountToken(1, "scoped-edge-dev-deploy-0a1b2c3d", { status: "expired", expiresOn: iso(-20) }),
    accountToken(2, "scoped-edge-dev-deploy-1a2b3c4d", { expiresOn: iso(-1) }), // past expiry, status not yet updated
    accountToken(3, "scoped-edge-dev-deploy-2a2b3c4d", { status: "disabled" }), // revoked
    accountToken(4, "scoped-edge-dev-deploy-3a2b3c4d"), // the current token: active, expires in 30 days
    accountToken(5, "scoped-edge-dev-deploy-4a2b3c4d", { expiresOn: undefined }), // active, no expiry
    accountToken(6, "scoped-edge-staging-deploy-5a2b3c4d", { status: "expired", expiresOn: iso(-20) }), // another stack
    accountToken(7, "scoped-edge-dev-deploy-x-6a2b3c4d", { status: "expired", expiresOn: iso(-20) }), // extends the prefix
    accountToken(8, "scoped-edge-dev-deploy-7A2B3C4D", { status: "expired", expiresOn: iso(-20) }), // not the hex form
    accountToken(9, "scoped-edge-dev-deploy-8a2b3c4d-old", { status: "disabled" }), // suffix after the hex
    accountToken(10, "ci-admin", { value: ADMIN, grants: adminGrants, expiresOn: iso(60) }),
  ];
}

const servers: Standin[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(tokens: NewStandinToken[]): Promise<Standin> {
  const server = await startStandin({ routes: tokenRoutes({ now: () => NOW }) });
  for (const token of tokens) server.addToken(token);
  servers.push(server);
  return server;
}

const remaining = (server: Standin) => [...server.state.tokens.values()].map((token) => token.id).sort();

async function sweep(
  server: Standin,
  args: string[],
  root = REPO_ROOT,
  env = { CLOUDFLARE_ADMIN_API_TOKEN: ADMIN },
) {
  let stdout = "";
  let stderr = "";
  const code = await sweepMain(["--api-base-url", server.baseUrl, ...args], {
    env,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    root,
    retry: FAST_RETRY,
    now: () => NOW,
  });
  for (const text of [stdout, stderr]) {
    expect(text).not.toContain(ADMIN);
    expect(text.toLowerCase()).not.toContain(ADMIN.slice(10, 18).toLowerCase());
  }
  return { code, stdout, stderr, lines: stdout.split("\n").filter((line) => line !== "") };
}

const deletes = (server: Standin) =>
  server.requests.filter((request) => request.method === "DELETE").map((request) => request.path);

describe("the name pattern", () => {
  it("is the program's prefix plus exactly 8 lowercase hex", () => {
    const pattern = stackTokenName(repoStack("dev"));
    expect(pattern.test("scoped-edge-dev-deploy-0a1b2c3d")).toBe(true);
    for (const name of [
      "scoped-edge-dev-deploy-x-0a1b2c3d",
      "scoped-edge-dev-deploy-0A1B2C3D",
      "scoped-edge-dev-deploy-0a1b2c3",
      "scoped-edge-dev-deploy-0a1b2c3d4",
      "scoped-edge-dev-deploy-0a1b2c3d\n",
      "xscoped-edge-dev-deploy-0a1b2c3d",
      "scoped-edge-dev.deploy-0a1b2c3d",
      "scoped-edge-staging-deploy-0a1b2c3d",
    ]) {
      expect(pattern.test(name), name).toBe(false);
    }
  });
});

describe("sweep-tokens", () => {
  it("dry run: lists what it would delete, deletes nothing", async () => {
    const server = await serve(world());
    const run = await sweep(server, ["--stack", "dev"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      "sweep-tokens: stack dev, account-owned tokens named scoped-edge-dev-deploy-<8 hex> (dry run: nothing is deleted; pass --delete to delete)",
      `WOULD DELETE scoped-edge-dev-deploy-0a1b2c3d (id ${hexId(1)}): expired ${iso(-20)}`,
      `WOULD DELETE scoped-edge-dev-deploy-1a2b3c4d (id ${hexId(2)}): expired ${iso(-1)}`,
      `WOULD DELETE scoped-edge-dev-deploy-2a2b3c4d (id ${hexId(3)}): disabled (revoked)`,
      `KEEP scoped-edge-dev-deploy-3a2b3c4d (id ${hexId(4)}): active, expires ${iso(30)}`,
      `KEEP scoped-edge-dev-deploy-4a2b3c4d (id ${hexId(5)}): active, no expiry`,
      "5 token(s) of this stack: would delete 3, kept 2; 5 other account token(s) left alone; 10 of Cloudflare's 500-token account limit in use",
    ]);
    expect(deletes(server)).toEqual([]);
    expect(remaining(server)).toHaveLength(10);
    // Expired tokens are only listed when asked for.
    expect(
      server.requests
        .filter((request) => request.path === `/accounts/${ACCOUNT_DEV}/tokens`)
        .map((r) => r.query),
    ).toEqual(["?per_page=50&page=1&include_expired=true"]);
  });

  it("--delete deletes exactly this stack's expired and disabled tokens, keeping --keep-token-id", async () => {
    const server = await serve(world());
    const run = await sweep(server, ["--stack", "dev", "--delete", "--keep-token-id", hexId(3)]);
    expect(run.code).toBe(0);
    expect(deletes(server)).toEqual([
      `/accounts/${ACCOUNT_DEV}/tokens/${hexId(1)}`,
      `/accounts/${ACCOUNT_DEV}/tokens/${hexId(2)}`,
    ]);
    expect(run.lines).toContain(
      `DELETED scoped-edge-dev-deploy-0a1b2c3d (id ${hexId(1)}): expired ${iso(-20)}`,
    );
    expect(run.lines).toContain(
      `KEEP scoped-edge-dev-deploy-2a2b3c4d (id ${hexId(3)}): named with --keep-token-id (the current token)`,
    );
    expect(remaining(server)).toEqual([3, 4, 5, 6, 7, 8, 9, 10].map(hexId));
    // Run again: nothing left to do.
    const again = await sweep(server, ["--stack", "dev", "--apply", "--keep-token-id", hexId(3)]);
    expect(again.lines.at(-1)).toMatch(/^3 token\(s\) of this stack: deleted 0, kept 3;/);
  });

  it("never deletes the credential doing the sweep, even when it carries the stack's name and has expired", async () => {
    // The stand-in checks status, not expiry, when it authenticates: the admin can still call.
    const tokens = world().map((token) =>
      token.value === ADMIN
        ? { ...token, name: "scoped-edge-dev-deploy-9a9b9c9d", expiresOn: iso(-1) }
        : token,
    );
    const server = await serve(tokens);
    const run = await sweep(server, ["--stack", "dev", "--delete"]);
    expect(run.lines).toContain(
      `KEEP scoped-edge-dev-deploy-9a9b9c9d (id ${hexId(10)}): it is the credential doing the sweep`,
    );
    expect(deletes(server)).toHaveLength(3);
    expect(deletes(server)).not.toContain(`/accounts/${ACCOUNT_DEV}/tokens/${hexId(10)}`);
  });

  it("fails clearly when the credential may list but not delete", async () => {
    const server = await serve(
      world([
        { permission: "Account API Tokens Read", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` },
      ]),
    );
    const run = await sweep(server, ["--stack", "dev", "--delete"]);
    expect(run.code).toBe(1);
    const failed = run.lines.filter((line) => line.startsWith("FAILED TO DELETE"));
    expect(failed).toHaveLength(3);
    expect(failed[0]).toContain(
      "403 (code 10000: Authentication error): the admin credential may not delete account tokens",
    );
    expect(failed[0]).toContain(
      `fix: give the admin credential Account API Tokens Write on account ${ACCOUNT_DEV}; npm run verify-token -- --stack dev --admin checks it`,
    );
    expect(run.lines.at(-1)).toContain("deleted 0, kept 2, failed 3");
    expect(remaining(server)).toHaveLength(10);
  });

  it("fails clearly when the credential may not even list tokens, and with no credential at all", async () => {
    const server = await serve(
      world([{ permission: "Workers Scripts Write", resource: `com.cloudflare.api.account.${ACCOUNT_DEV}` }]),
    );
    const run = await sweep(server, ["--stack", "dev", "--delete"]);
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      `sweep-tokens: GET /accounts/${ACCOUNT_DEV}/tokens: 403 (code 10000: Authentication error): the admin credential may not list account tokens; fix: give the admin credential Account API Tokens Read (or Write) on account ${ACCOUNT_DEV}; npm run verify-token -- --stack dev --admin checks it`,
    ]);
    expect(deletes(server)).toEqual([]);

    const none = await sweep(
      server,
      ["--stack", "dev"],
      REPO_ROOT,
      {} as { CLOUDFLARE_ADMIN_API_TOKEN: string },
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("CLOUDFLARE_ADMIN_API_TOKEN or CLOUDFLARE_API_TOKEN is not set");
  });

  it("sweeps user-owned tokens at /user/tokens for a user-owned stack", async () => {
    const root = stackDir({ saas: SAAS_STACK });
    const saas = loadStackConfig(root, "saas");
    expect(saas.token.owner).toBe("user");
    const user = (n: number, name: string, overrides: Partial<NewStandinToken> = {}): NewStandinToken => ({
      ...accountToken(n, name, overrides),
      owner: { kind: "user" },
    });
    const server = await serve([
      user(1, "scoped-edge-saas-deploy-0a1b2c3d", { status: "expired", expiresOn: iso(-3) }),
      user(2, "scoped-edge-saas-deploy-1a1b2c3d"),
      accountToken(3, "scoped-edge-saas-deploy-2a1b2c3d", { status: "expired", expiresOn: iso(-3) }), // an account token: not listed here
      user(10, "admin", {
        value: ADMIN,
        grants: [
          {
            permission: "API Tokens Write",
            resource: USER_RESOURCE,
          },
        ],
      }),
    ]);
    const run = await sweep(server, ["--stack", "saas", "--delete", "--json"], root);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      owner: string;
      limit: number;
      tokens: { id: string; result?: string }[];
    };
    expect(doc.owner).toBe("user");
    expect(doc.limit).toBe(50);
    expect(doc.tokens.map((token) => [token.id, token.result])).toEqual([
      [hexId(1), "deleted"],
      [hexId(2), undefined],
    ]);
    expect(deletes(server)).toEqual([`/user/tokens/${hexId(1)}`]);
  });

  it("never prints the names of tokens that are not this stack's", async () => {
    const server = await serve([
      ...world(),
      accountToken(11, "evil\nWOULD DELETE scoped-edge-dev-deploy-3a2b3c4d\u001b[8m", { status: "expired" }),
    ]);
    const run = await sweep(server, ["--stack", "dev"]);
    expect(run.stdout).not.toContain("evil");
    expect(run.stdout).not.toContain("staging");
    expect(run.lines.filter((line) => line.startsWith("WOULD DELETE"))).toHaveLength(3);
  });
});
