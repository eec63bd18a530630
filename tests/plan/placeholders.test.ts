/** tools/plan/placeholders.ts: what must be set before a real pulumi up. Pure. */
import { describe, expect, it } from "vitest";

import {
  missingSecrets,
  PLACEHOLDER_ID,
  placeholderIds,
  requiredSecrets,
} from "../../tools/plan/placeholders";

const P = (suffix: string) => `0000000000000000000000000000${suffix}`;

describe("PLACEHOLDER_ID", () => {
  it("matches 28 zeros and 4 lowercase hex digits only", () => {
    expect(PLACEHOLDER_ID.test(P("a001"))).toBe(true);
    expect(PLACEHOLDER_ID.test(P("ffff"))).toBe(true);
    for (const value of [
      P("A001"),
      P("a00"),
      `${P("a001")}0`,
      "1".repeat(32),
      "5f0c1e2d3b4a59687766554433221100",
    ]) {
      expect(PLACEHOLDER_ID.test(value)).toBe(false);
    }
  });
});

describe("missingSecrets", () => {
  it("lists the three required secrets, in order, with the command that prompts for each", () => {
    expect(requiredSecrets({}).map((secret) => secret.key)).toEqual([
      "scoped-edge:providerKey",
      "cloudflare:apiToken",
      "github:token",
    ]);
    expect(missingSecrets({}, "qa")).toEqual([
      {
        key: "scoped-edge:providerKey",
        kind: "secret",
        fix: "pulumi config set --secret scoped-edge:providerKey --stack qa (paste <LLM provider key> when prompted)",
      },
      {
        key: "cloudflare:apiToken",
        kind: "secret",
        fix:
          'pulumi config set --secret cloudflare:apiToken --stack qa (paste <admin account token with "Account API ' +
          'Tokens Write" and the rest the credentials table lists> when prompted; or export CLOUDFLARE_API_TOKEN for the pulumi step)',
      },
      {
        key: "github:token",
        kind: "secret",
        fix:
          "pulumi config set --secret github:token --stack qa (paste <token that can write Actions secrets> when " +
          "prompted; or export GITHUB_TOKEN for the pulumi step)",
      },
    ]);
  });

  it("asks the admin credential for the token-write permission of the token's owner", () => {
    const admin = (config: Record<string, string>) =>
      missingSecrets(config, "qa").find((item) => item.key === "cloudflare:apiToken")!.fix;
    expect(admin({ "scoped-edge:tokenOwner": "user" })).toContain(
      '<admin user token with "API Tokens Write" and the rest',
    );
    expect(admin({ "scoped-edge:tokenOwner": "account" })).toContain(
      '<admin account token with "Account API Tokens Write" and the rest',
    );
    // No deploy token at all: nothing to mint, so no token-write permission.
    expect(admin({ "scoped-edge:codeDeployedBy": "pulumi" })).not.toContain("Tokens Write");
  });

  it("counts a set value as present and an empty one as missing", () => {
    const config = {
      "scoped-edge:providerKey": "[secret]",
      "cloudflare:apiToken": "",
      "github:token": "[secret]",
    };
    expect(missingSecrets(config, "qa").map((item) => item.key)).toEqual(["cloudflare:apiToken"]);
  });
});

describe("placeholderIds", () => {
  it("finds placeholder ids in scalars and in structured values, with their config paths", () => {
    const config = {
      "scoped-edge:accountId": P("a001"),
      "scoped-edge:zones": JSON.stringify([
        { name: "example.com", id: P("d003"), routes: ["api.example.com/*"] },
        { name: "example.net", id: "5f0c1e2d3b4a59687766554433221100" },
        { name: "example.org", id: P("d005") },
      ]),
      "scoped-edge:workerVars": JSON.stringify({ NESTED: { ID: P("beef") } }),
      "scoped-edge:workerName": "edge-chat",
      "scoped-edge:broken": `[${P("c0de")}`,
    };
    expect(placeholderIds(config, "prod")).toEqual([
      {
        key: "scoped-edge:accountId",
        kind: "placeholder-id",
        value: P("a001"),
        fix: `replace ${P("a001")} with your account id in Pulumi.prod.yaml (dashboard: a domain's Overview page, API section: Account ID)`,
      },
      {
        key: "scoped-edge:zones[0].id",
        kind: "placeholder-id",
        value: P("d003"),
        fix: `replace ${P("d003")} with the zone id of example.com in Pulumi.prod.yaml (dashboard: the domain's Overview page, API section: Zone ID)`,
      },
      {
        key: "scoped-edge:zones[2].id",
        kind: "placeholder-id",
        value: P("d005"),
        fix: `replace ${P("d005")} with the zone id of example.org in Pulumi.prod.yaml (dashboard: the domain's Overview page, API section: Zone ID)`,
      },
      {
        key: "scoped-edge:workerVars.NESTED.ID",
        kind: "placeholder-id",
        value: P("beef"),
        fix: `replace ${P("beef")} with the real id in Pulumi.prod.yaml (dashboard: the domain's Overview page, API section: Zone ID)`,
      },
    ]);
  });

  it("finds nothing in a stack with real ids", () => {
    expect(
      placeholderIds(
        { "scoped-edge:accountId": "5f0c1e2d3b4a59687766554433221100", "scoped-edge:zones": "[]" },
        "dev",
      ),
    ).toEqual([]);
  });
});
