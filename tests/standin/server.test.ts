/** The stand-in's permission enforcement and envelope, independent of any route module. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startStandin, type Standin } from "./server";

const ACCOUNT = "a".repeat(32);
const ZONE = "d".repeat(32);
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({
    routes: [
      {
        method: "GET",
        path: "/accounts/:account_id/thing",
        operationId: "thing-get",
        permissions: ["Workers Scripts Read", "Workers Scripts Write"],
        resource: "account",
        source: "test",
        handle: (request) => ({ result: { account: request.params.account_id } }),
      },
      {
        method: "POST",
        path: "/zones/:zone_id/thing",
        operationId: "zone-thing",
        permissions: ["Workers Routes Write"],
        resource: "zone",
        source: "test",
        handle: () => ({ result: { ok: true } }),
      },
    ],
  });
  standin.addToken({
    value: "account-token",
    grants: [{ permission: "Workers Scripts Write", resource: `com.cloudflare.api.account.${ACCOUNT}` }],
  });
  standin.addToken({
    value: "all-zones",
    grants: [{ permission: "Workers Routes Write", resource: "com.cloudflare.api.account.zone.*" }],
  });
  standin.addToken({ value: "disabled", status: "disabled", grants: [] });
});
afterAll(() => standin.close());

async function call(method: string, path: string, token?: string) {
  const response = await fetch(`${standin.baseUrl}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the Cloudflare API stand-in", () => {
  it("serves a token holding an accepted group on the path's account, in Cloudflare's envelope", async () => {
    expect(await call("GET", `/accounts/${ACCOUNT}/thing`, "account-token")).toEqual({
      status: 200,
      body: { success: true, errors: [], messages: [], result: { account: ACCOUNT } },
    });
  });

  it.each([
    ["another account", "GET", `/accounts/${"b".repeat(32)}/thing`, "account-token", 403, 10000],
    ["a zone route with an account grant", "POST", `/zones/${ZONE}/thing`, "account-token", 403, 10000],
    ["no Authorization header", "GET", `/accounts/${ACCOUNT}/thing`, undefined, 400, 9106],
    ["an unknown token", "GET", `/accounts/${ACCOUNT}/thing`, "nope", 400, 1000],
    ["a disabled token", "GET", `/accounts/${ACCOUNT}/thing`, "disabled", 400, 1000],
    ["no route", "GET", `/accounts/${ACCOUNT}/other`, "account-token", 404, 7003],
  ])("refuses %s", async (_name, method, path, token, status, code) => {
    const reply = await call(method, path, token);
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ success: false, result: null, errors: [{ code }] });
  });

  it("lets an all-zones grant reach any zone, and logs every request with its operation and outcome", async () => {
    expect((await call("POST", `/zones/${ZONE}/thing`, "all-zones")).status).toBe(200);
    expect(standin.requests.at(-1)).toMatchObject({
      method: "POST",
      path: `/zones/${ZONE}/thing`,
      status: 200,
      operationId: "zone-thing",
    });
  });
});
