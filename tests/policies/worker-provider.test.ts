import { describe, expect, it } from "vitest";

import { CLOUDFLARE_PROVIDER_TYPE, WORKER_SCRIPT_TYPE } from "../../policies/lib/resource-types";
import { providerGlobalApiKey, workerPlaintextSecrets } from "../../policies/rules";
import { devScript, NOW, usePolicyClock } from "./fixtures";
import { analyzeResource, loadConfig, secret, withNow, type PackConfig } from "./harness";

usePolicyClock();

const DEV = withNow(loadConfig("dev"), NOW);

const BASE_BINDINGS = devScript().props["bindings"] as Record<string, unknown>[];
const withBinding = (binding: Record<string, unknown>) => devScript([...BASE_BINDINGS, binding]);

async function scriptDetails(binding: Record<string, unknown>, config: PackConfig = DEV) {
  const { diagnostics } = await analyzeResource(workerPlaintextSecrets, withBinding(binding), { config });
  return diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail]);
}

const fix = (name: string) =>
  `Make it a secret_text binding whose text comes from a Pulumi secret, or list "${name}" in allowedPlainTextNames ` +
  "if it is not a secret.";

describe("cloudflare-worker-disallow-secrets-in-plain-bindings", () => {
  it("passes the dev Worker (PROVIDER_KEY as secret_text, plain ALLOWED_ORIGINS)", async () => {
    expect((await analyzeResource(workerPlaintextSecrets, devScript(), { config: DEV })).diagnostics).toEqual(
      [],
    );
  });

  it.each([
    [
      "PROVIDER_KEY",
      "gsk_abcdefghijklmnopqrstuvwx",
      "its name contains KEY and its value looks like a Groq API key (gsk_...)",
    ],
    ["providerToken", "x", "its name contains TOKEN"],
    ["DB_PASSWORD", "hunter2", "its name contains PASSWORD"],
    ["CLIENT_SECRET", "x", "its name contains SECRET"],
    ["UPSTREAM", "cfut_0123456789abcdefghij", "its value looks like a Cloudflare user API token (cfut_...)"],
    [
      "UPSTREAM",
      "cfat_0123456789abcdefghij",
      "its value looks like a Cloudflare account API token (cfat_...)",
    ],
    [
      "UPSTREAM",
      "Bearer sk-proj-0123456789abcdefghij",
      "its value looks like an OpenAI-style secret key (sk-...)",
    ],
    [
      "UPSTREAM",
      "0123456789abcdef0123456789abcdef01234",
      "its value looks like a long hex string (37+ hex characters, like a Cloudflare Global API Key)",
    ],
  ])("reports plain_text %s", async (name, text, why) => {
    expect(await scriptDetails({ name, type: "plain_text", text })).toEqual([
      [
        "cloudflare-worker-disallow-secrets-in-plain-bindings",
        "mandatory",
        `Binding "${name}" is plain_text but ${why}. ${fix(name)}`,
      ],
    ]);
  });

  it.each([
    [
      "a 32-hex account id",
      { name: "ACCOUNT_ID", type: "plain_text", text: "0000000000000000000000000000a001" },
    ],
    ["a word that only contains KEY", { name: "MONKEY_MODE", type: "plain_text", text: "on" }],
    [
      "a secret_text binding",
      { name: "API_TOKEN", type: "secret_text", text: secret("cfut_0123456789abcdefghij") },
    ],
    ["a KV binding", { name: "CACHE_KEY_KV", type: "kv_namespace", namespaceId: "f00d" }],
  ])("accepts %s", async (_case, binding) => {
    expect(await scriptDetails(binding)).toEqual([]);
  });

  it("honours allowedPlainTextNames and minHexSecretLength", async () => {
    const config = {
      "cloudflare-worker-disallow-secrets-in-plain-bindings": {
        allowedPlainTextNames: ["PUBLIC_KEY"],
        minHexSecretLength: 32,
      },
    };
    expect(
      await scriptDetails({ name: "PUBLIC_KEY", type: "plain_text", text: "ssh-ed25519 AAAA" }, config),
    ).toEqual([]);
    expect(
      await scriptDetails(
        { name: "ACCOUNT", type: "plain_text", text: "0000000000000000000000000000a001" },
        config,
      ),
    ).toEqual([
      [
        "cloudflare-worker-disallow-secrets-in-plain-bindings",
        "mandatory",
        `Binding "ACCOUNT" is plain_text but its value looks like a long hex string (32+ hex characters, like a ` +
          `Cloudflare Global API Key). ${fix("ACCOUNT")}`,
      ],
    ]);
  });

  it("checks the older WorkerScript type too and is not applicable elsewhere", async () => {
    const legacy = {
      ...withBinding({ name: "API_KEY", type: "plain_text", text: "x" }),
      type: WORKER_SCRIPT_TYPE,
    };
    expect((await analyzeResource(workerPlaintextSecrets, legacy, { config: DEV })).diagnostics).toHaveLength(
      1,
    );
    const other = await analyzeResource(workerPlaintextSecrets, {
      type: "cloudflare:index/zone:Zone",
      name: "z",
      props: {},
    });
    expect(other).toEqual({
      diagnostics: [],
      notApplicable: [
        {
          policyName: "cloudflare-worker-disallow-secrets-in-plain-bindings",
          reason:
            "Policy only applies to Worker scripts (cloudflare:index/workersScript:WorkersScript, " +
            "cloudflare:index/workerScript:WorkerScript)",
        },
      ],
    });
  });
});

describe("cloudflare-provider-disallow-global-api-key", () => {
  const provider = (props: Record<string, unknown>) => ({
    type: CLOUDFLARE_PROVIDER_TYPE,
    name: "cf",
    props,
  });

  it("passes a provider configured with an API token", async () => {
    const result = await analyzeResource(
      providerGlobalApiKey,
      provider({ apiToken: secret("cfut_0123456789") }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it.each([
    [
      { apiKey: secret("0123456789abcdef0123456789abcdef01234"), email: "ops@example.com" },
      "The Cloudflare provider is configured with apiKey and email instead of a scoped API token. Run pulumi config " +
        "set --secret cloudflare:apiToken <token> and remove cloudflare:apiKey and cloudflare:email (pulumi config rm " +
        "cloudflare:apiKey cloudflare:email).",
    ],
    [
      { apiUserServiceKey: secret("v1.0-abc") },
      "The Cloudflare provider is configured with apiUserServiceKey instead of a scoped API token. Run pulumi config " +
        "set --secret cloudflare:apiToken <token> and remove cloudflare:apiUserServiceKey (pulumi config rm " +
        "cloudflare:apiUserServiceKey).",
    ],
  ])("reports %j", async (props, expected) => {
    const { diagnostics } = await analyzeResource(providerGlobalApiKey, provider(props));
    expect(diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.detail])).toEqual([
      ["cloudflare-provider-disallow-global-api-key", "mandatory", expected],
    ]);
  });

  it("ignores an email without a key", async () => {
    const result = await analyzeResource(
      providerGlobalApiKey,
      provider({ apiToken: "t", email: "ops@example.com" }),
    );
    expect(result.diagnostics).toEqual([]);
  });
});
