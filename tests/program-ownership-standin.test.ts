/**
 * Ownership end to end, with what each side really registers and does: `pulumi up` (the program
 * under Pulumi's mock runtime), the application's CI deploy (the real wrangler 4.86.0 with the
 * contract the program published and a token with exactly the grants it minted, against the
 * Cloudflare API stand-in), then `pulumi up` again.
 *
 * The stand-in starts from the script exactly as the program's WorkersScript inputs describe it
 * (the provider's multipart metadata uses the API's snake_case field names: namespace_id,
 * bucket_name), then PROVIDER_KEY is set by the program's WorkerSecret provider itself, run for real
 * with a token holding exactly the admin grants the program reports. After the deploy the Worker runs
 * CI's code with every binding, var and secret the program set; the second run asks for no change,
 * so CI's code stays; a rotated key reaches the Worker and CI's code still stays.
 */
import path from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { workerSecretProvider, type WorkerSecretState } from "../components/worker-secret-provider";
import { WRANGLER_CONFIG_VARIABLE_NAME } from "../lib/credentials";
import { loadStackConfig } from "../tools/verify/stack";
import {
  newWorkersState,
  scriptOf,
  seedScript,
  workersRoutes,
  type WorkerBinding,
} from "./standin/routes/workers";
import { workerSecretRoutes } from "./standin/routes/worker-secrets";
import { startStandin, type Standin } from "./standin/server";
import { WORKER_SOURCE, wranglerProject, type WranglerProject } from "./wrangler/run-wrangler";
import {
  diffRuns,
  only,
  programResources,
  PROVIDER_KEY,
  runStack,
  TYPES,
  unwrapSecret,
} from "./helpers/program";

const ROOT = path.resolve(__dirname, "..");
const TOKEN = "ci-deploy-token-from-the-github-secret";
const ADMIN_TOKEN = "admin-credential-of-the-pulumi-stack";

/** A WorkersScript binding input (camelCase) as the provider sends it to the API (snake_case). */
function apiBinding(binding: Record<string, unknown>): WorkerBinding {
  return Object.fromEntries(
    Object.entries(binding).map(([key, value]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      value,
    ]),
  ) as WorkerBinding;
}

const byName = (bindings: readonly WorkerBinding[]) =>
  [...bindings].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const cleanup: { standin: Standin; project: WranglerProject }[] = [];
afterAll(async () => {
  for (const { standin, project } of cleanup) {
    project.remove();
    await standin.close();
  }
});

describe("pulumi up, a real CI deploy, pulumi up again (dev stack)", () => {
  it("keeps every binding, var and secret Pulumi set, runs CI's code, and the next pulumi up changes nothing", async () => {
    const config = loadStackConfig(ROOT, "dev");
    const first = await runStack("dev");
    expect(first.error).toBeUndefined();

    const script = only(first, TYPES.script);
    const [bindings] = unwrapSecret(script.inputs["bindings"]);
    const pulumiBindings = (bindings as Record<string, unknown>[]).map(apiBinding);
    const contractVariable = programResources(first).find(
      (resource) => resource.inputs["variableName"] === WRANGLER_CONFIG_VARIABLE_NAME,
    )!;
    const contract = JSON.parse(contractVariable.inputs["value"] as string) as object;
    const grants = (
      first.outputs!["deployTokenPermissions"] as { permission: string; resource: string }[]
    ).map(({ permission, resource }) => ({ permission, resource }));

    const standin = await startStandin({
      routes: [...workersRoutes(), ...workerSecretRoutes().filter((route) => route.method !== "PUT")],
      state: newWorkersState(
        config.zones.map((zone) => ({ id: zone.id, name: zone.name, accountId: config.accountId })),
      ),
    });
    standin.addToken({ value: TOKEN, grants, owner: { kind: "account", accountId: config.accountId } });
    seedScript(standin.state, {
      accountId: config.accountId,
      name: script.inputs["scriptName"] as string,
      bindings: pulumiBindings,
      content: script.inputs["content"] as string,
      compatibilityDate: script.inputs["compatibilityDate"] as string,
    });
    // pulumi up's WorkerSecret, with exactly the admin grants the program reports.
    const adminGrants = (first.outputs!["adminPermissions"] as { permission: string; resource?: string }[])
      .filter((grant) => grant.resource !== undefined)
      .map(({ permission, resource }) => ({ permission, resource: resource! }));
    standin.addToken({ value: ADMIN_TOKEN, grants: adminGrants });
    const { __provider: _code, ...secretInputs } = only(first, TYPES.workerSecret).inputs;
    const secretState = {
      ...Object.fromEntries(
        Object.entries(secretInputs).map(([key, value]) => [key, unwrapSecret(value)[0]]),
      ),
      apiToken: ADMIN_TOKEN,
      apiBaseUrl: standin.baseUrl,
    } as WorkerSecretState;
    await workerSecretProvider.create(secretState);
    const afterUp = scriptOf(standin.state, config.accountId, config.worker.name)!.current;
    expect(afterUp.modules).toEqual({ "index.js": script.inputs["content"] });
    expect(byName(afterUp.bindings)).toEqual(
      byName([...pulumiBindings, { type: "secret_text", name: "PROVIDER_KEY", text: PROVIDER_KEY }]),
    );

    const project = wranglerProject(contract, standin.baseUrl, config.accountId);
    cleanup.push({ standin, project });

    const deploy = await project.run(["deploy"], { token: TOKEN });
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);

    const live = scriptOf(standin.state, config.accountId, config.worker.name)!;
    // wrangler bundles the app's source; its text is in the one module it uploads.
    expect(Object.values(live.current.modules)).toEqual([expect.stringContaining("app code from CI")]);
    expect(WORKER_SOURCE).toContain("app code from CI");
    expect(byName(live.current.bindings)).toEqual(byName(afterUp.bindings));
    expect(live.current.bindings).toContainEqual({
      type: "secret_text",
      name: "PROVIDER_KEY",
      text: PROVIDER_KEY,
    });

    const second = await runStack("dev");
    expect(second.error).toBeUndefined();
    expect(diffRuns(first, second)).toEqual({});

    // Rotation: pulumi config set --secret scoped-edge:providerKey <new>; pulumi up updates only the
    // WorkerSecret, whose update sets the new key and keeps CI's code.
    const rotated = "gsk_rotated_after_ci_deploy_4444";
    const third = await runStack("dev", { set: { "scoped-edge:providerKey": rotated } });
    expect(diffRuns(second, third)).toEqual({ [only(third, TYPES.workerSecret).urn]: ["value"] });
    const ciCode = live.current.modules;
    await workerSecretProvider.update!("id", secretState, { ...secretState, value: rotated });
    const afterRotation = scriptOf(standin.state, config.accountId, config.worker.name)!.current;
    expect(afterRotation.modules).toEqual(ciCode);
    expect(byName(afterRotation.bindings)).toEqual(
      byName([
        ...afterUp.bindings.filter((binding) => binding.name !== "PROVIDER_KEY"),
        { type: "secret_text", name: "PROVIDER_KEY", text: rotated },
      ]),
    );
  }, 180_000);
});
