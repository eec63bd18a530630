/**
 * WorkerSecret's dynamic provider (components/worker-secret-provider.ts) run for real, through the
 * official `cloudflare` SDK, against the Cloudflare API stand-in that enforces each operation's
 * accepted permission groups (tests/standin/routes/worker-secrets.ts, citing the OpenAPI): it sets,
 * replaces, reads and removes PROVIDER_KEY and never touches the Worker's code; without Workers
 * Scripts Write it fails naming the permission, and no error ever carries the secret or the token.
 * The last tests load the provider as Pulumi's dynamic-provider host does (serialized, then
 * require-from-string), so it needs nothing of this repository at run time.
 */
import { createRequire } from "node:module";

import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  workerSecretProvider,
  WORKER_SECRET_IDENTITY,
  type WorkerSecretState,
} from "../components/worker-secret-provider";
import { newWorkersState, scriptOf, seedScript, type StoredScript } from "./standin/routes/workers";
import { workerSecretRoutes } from "./standin/routes/worker-secrets";
import { startStandin, type Standin } from "./standin/server";

const ACCOUNT = "0000000000000000000000000000a001";
const SCRIPT = "edge-chat-dev";
const ADMIN_TOKEN = "admin-token-scripts-write-0123456789";
const KEY = "gsk_rotated_provider_key_abcdef0123456789";
const CODE = "export default { fetch() { return new Response('app code from CI'); } };";
const OTHER_BINDINGS = [
  { type: "kv_namespace", name: "CONFIG_KV", namespace_id: "kv-id" },
  { type: "plain_text", name: "ALLOWED_ORIGINS", text: "https://www.example.dev" },
];
const account = (permission: string, accountId = ACCOUNT) => ({
  permission,
  resource: `com.cloudflare.api.account.${accountId}`,
});

const provider = workerSecretProvider as Required<typeof workerSecretProvider>;
let standin: Standin;
let state: WorkerSecretState;

beforeAll(async () => {
  standin = await startStandin({ routes: workerSecretRoutes(), state: newWorkersState() });
  standin.addToken({ value: ADMIN_TOKEN, grants: [account("Workers Scripts Write")] });
});
afterAll(() => standin.close());

function live(): StoredScript {
  return scriptOf(standin.state, ACCOUNT, SCRIPT)!;
}
const secretsOf = (script: StoredScript) => script.current.bindings.filter((b) => b.type === "secret_text");

beforeEach(() => {
  seedScript(standin.state, { accountId: ACCOUNT, name: SCRIPT, bindings: OTHER_BINDINGS, content: CODE });
  standin.requests.length = 0;
  state = {
    accountId: ACCOUNT,
    scriptName: SCRIPT,
    secretName: "PROVIDER_KEY",
    value: KEY,
    apiToken: ADMIN_TOKEN,
    apiBaseUrl: standin.baseUrl,
  };
});

/** The error a promise rejects with, checked to carry neither secret anywhere a user could see it. */
async function failure(promise: Promise<unknown>, secrets: readonly string[]): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason as Error,
  );
  if (error === undefined) throw new Error("expected a rejection");
  for (const text of [error.message, String(error), error.stack ?? "", JSON.stringify(error)])
    for (const secret of secrets) expect(text).not.toContain(secret);
  return error;
}

describe("with Workers Scripts Write on the account", () => {
  it("create sets the secret through the secrets endpoint and keeps the code and the other bindings", async () => {
    const before = live().current;
    const result = await provider.create(state);
    expect(result).toEqual({ id: `${ACCOUNT}/${SCRIPT}/PROVIDER_KEY`, outs: state });
    expect(standin.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      "PUT worker-put-script-secret 200",
    ]);
    const after = live().current;
    expect(after.id).not.toBe(before.id);
    expect(after.modules).toEqual({ "index.js": CODE });
    expect(after.mainModule).toBe(before.mainModule);
    expect(after.bindings).toEqual([
      ...OTHER_BINDINGS,
      { type: "secret_text", name: "PROVIDER_KEY", text: KEY },
    ]);
  });

  it("create is idempotent: a second PUT replaces the secret, never duplicates it", async () => {
    await provider.create(state);
    await provider.create(state);
    expect(secretsOf(live())).toEqual([{ type: "secret_text", name: "PROVIDER_KEY", text: KEY }]);
  });

  it("update with a new value replaces it in place; a new token or base URL alone makes no call", async () => {
    await provider.create(state);
    standin.requests.length = 0;
    const rotated = { ...state, value: "gsk_second_key_9876543210" };
    expect(await provider.update("id", state, rotated)).toEqual({ outs: rotated });
    expect(secretsOf(live())).toEqual([
      { type: "secret_text", name: "PROVIDER_KEY", text: "gsk_second_key_9876543210" },
    ]);
    expect(live().current.modules).toEqual({ "index.js": CODE });
    expect(standin.requests).toHaveLength(1);

    const newToken = { ...rotated, apiToken: "another-admin-token-0000" };
    expect(await provider.update("id", rotated, newToken)).toEqual({ outs: newToken });
    expect(standin.requests).toHaveLength(1);
  });

  it("read keeps the state while the secret exists, and reports it gone (empty id) when it is not", async () => {
    await provider.create(state);
    expect(await provider.read("the-id", state)).toEqual({ id: "the-id", props: state });
    live().current = { ...live().current, bindings: OTHER_BINDINGS };
    expect(await provider.read("the-id", state)).toEqual({ id: "" });
    expect(standin.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      "PUT worker-put-script-secret 200",
      "GET worker-get-script-secret 200",
      "GET worker-get-script-secret 404",
    ]);
  });

  it("delete removes the secret and keeps the code; deleting it again is not an error", async () => {
    await provider.create(state);
    await provider.delete("id", state);
    expect(live().current.bindings).toEqual(OTHER_BINDINGS);
    expect(live().current.modules).toEqual({ "index.js": CODE });
    await provider.delete("id", state);
    expect(standin.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      "PUT worker-put-script-secret 200",
      "DELETE worker-delete-script-secret 200",
      "DELETE worker-delete-script-secret 404",
    ]);
  });

  describe("without cloudflare:apiToken", () => {
    const saved = process.env.CLOUDFLARE_API_TOKEN;
    afterEach(() => {
      if (saved === undefined) delete process.env.CLOUDFLARE_API_TOKEN;
      else process.env.CLOUDFLARE_API_TOKEN = saved;
    });

    it("reads CLOUDFLARE_API_TOKEN when it runs", async () => {
      process.env.CLOUDFLARE_API_TOKEN = ADMIN_TOKEN;
      const { apiToken: _token, ...withoutToken } = state;
      await provider.create(withoutToken);
      expect(secretsOf(live())).toEqual([{ type: "secret_text", name: "PROVIDER_KEY", text: KEY }]);
    });

    it("fails naming both places when neither holds a token", async () => {
      delete process.env.CLOUDFLARE_API_TOKEN;
      const { apiToken: _token, ...withoutToken } = state;
      const error = await failure(provider.create(withoutToken), [KEY]);
      expect(error.message).toBe(
        "no admin credential to set the Worker secret PROVIDER_KEY: set cloudflare:apiToken " +
          "(pulumi config set --secret cloudflare:apiToken <token>) or CLOUDFLARE_API_TOKEN in pulumi's environment",
      );
      expect(standin.requests).toEqual([]);
    });
  });
});

describe("refusals", () => {
  it.each([
    ["Workers Scripts Read only", [account("Workers Scripts Read")]],
    ["Workers KV Storage Write only", [account("Workers KV Storage Write")]],
    ["Workers Scripts Write on another account", [account("Workers Scripts Write", "f".repeat(32))]],
  ])(
    "without Workers Scripts Write on the account (%s): a clear error naming it, nothing set",
    async (_label, grants) => {
      const token = `weak-admin-token-${grants[0]!.permission.replace(/ /g, "-")}`;
      standin.addToken({ value: token, grants });
      const error = await failure(provider.create({ ...state, apiToken: token }), [KEY, token]);
      expect(error.message).toBe(
        `could not set the secret PROVIDER_KEY of Worker ${SCRIPT} (account ${ACCOUNT}): HTTP 403, code 10000 Authentication error: ` +
          `the admin credential needs "Workers Scripts Write" on account ${ACCOUNT} (pulumi up prints the admin credential's exact permissions in the adminPermissions output)`,
      );
      expect(secretsOf(live())).toEqual([]);
    },
  );

  it("an unknown token: says the credential is not valid", async () => {
    const error = await failure(provider.create({ ...state, apiToken: "revoked-admin-token-1234" }), [
      KEY,
      "revoked-admin-token-1234",
    ]);
    expect(error.message).toMatch(
      /HTTP 400, code 1000 Invalid API Token: the admin credential is not a valid, active API token/,
    );
  });

  it("a script that does not exist: says so", async () => {
    const error = await failure(provider.create({ ...state, scriptName: "no-such-worker" }), [
      KEY,
      ADMIN_TOKEN,
    ]);
    expect(error.message).toMatch(
      /^could not set the secret PROVIDER_KEY of Worker no-such-worker .*HTTP 404, code 10007/,
    );
  });

  it("delete and read refused: the same clear error", async () => {
    await provider.create(state);
    const token = "scripts-read-only-admin-token";
    standin.addToken({ value: token, grants: [account("Workers Scripts Read")] });
    const deleteError = await failure(provider.delete("id", { ...state, apiToken: token }), [KEY, token]);
    expect(deleteError.message).toMatch(
      /^could not delete the secret PROVIDER_KEY .*needs "Workers Scripts Write"/,
    );
    expect(secretsOf(live())).toHaveLength(1);
    // Reading is allowed with Scripts Read (the list operation's groups).
    expect((await provider.read("id", { ...state, apiToken: token })).id).toBe("id");
  });

  it("redacts the value and the token even where Cloudflare's answer would echo them", async () => {
    const error = await failure(
      provider.create({ ...state, scriptName: `worker-${KEY}`, apiToken: ADMIN_TOKEN }),
      [KEY, ADMIN_TOKEN],
    );
    expect(error.message).toContain("Worker worker-[secret]");
  });
});

describe("diff", () => {
  it("updates in place for a new value, token or base URL; replaces for another name, script or account", async () => {
    expect(await provider.diff("id", state, state)).toEqual({ changes: false, replaces: [] });
    expect(await provider.diff("id", state, { ...state, value: "other" })).toEqual({
      changes: true,
      replaces: [],
    });
    expect(await provider.diff("id", state, { ...state, apiToken: "other" })).toEqual({
      changes: true,
      replaces: [],
    });
    for (const key of WORKER_SECRET_IDENTITY) {
      expect(await provider.diff("id", state, { ...state, [key]: "other" })).toEqual({
        changes: true,
        replaces: [key],
      });
    }
  });

  it("check refuses an empty value", async () => {
    expect(await provider.check(state, { ...state, value: "" })).toEqual({
      inputs: { ...state, value: "" },
      failures: [{ property: "value", reason: "is empty; a Worker secret needs a value" }],
    });
    expect((await provider.check(state, state)).failures).toEqual([]);
  });
});

describe("as Pulumi's dynamic-provider host loads it", () => {
  it("serializes without capturing a secret, and the loaded copy sets the secret through the SDK", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => workerSecretProvider, {
      allowSecrets: true,
    });
    expect(serialized.containsSecrets).toBe(false);
    expect(serialized.text).toContain('require("cloudflare")');
    expect(serialized.text).not.toContain(KEY);
    expect(serialized.text).not.toContain(ADMIN_TOKEN);
    // cmd/dynamic-provider/index.js: requireFromString(providerString).handler()
    const requireFromString = createRequire(require.resolve("@pulumi/pulumi"))("require-from-string") as (
      code: string,
    ) => { handler(): typeof provider };
    const loaded = requireFromString(serialized.text).handler();
    await loaded.create(state);
    expect(secretsOf(live())).toEqual([{ type: "secret_text", name: "PROVIDER_KEY", text: KEY }]);
    expect(live().current.modules).toEqual({ "index.js": CODE });
  }, 60_000);
});
