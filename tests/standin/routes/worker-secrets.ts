/**
 * The stand-in's routes for one Worker secret, as Pulumi's WorkerSecret calls them
 * (components/worker-secret-provider.ts), on the scripts B's workers routes keep
 * (tests/standin/routes/workers.ts: newWorkersState, seedScript, scriptOf).
 *
 * Sources: cloudflare/api-schemas openapi.json at c92b9b0fde23ae00fece2025662f96dc8e2d6283, each
 * operation's `x-api-token-group`:
 * - PUT .../secrets, `worker-put-script-secret`: ["Workers Scripts Write"]; B's route (its row in
 *   policies/lib/deploy-calls.ts, what `wrangler secret put` calls), reused as is: a new version with
 *   the current code and the secret, replacing one of the same name;
 * - GET .../secrets/{secret_name}, `worker-get-script-secret`: no `x-api-token-group` in the
 *   published OpenAPI; the stand-in accepts the groups of the list operation on the same secrets,
 *   `worker-list-script-secrets`: ["Workers Tail Read", "Workers Scripts Write", "Workers Scripts Read"].
 *   The answer is the binding without its text ("Get a given secret binding (value omitted)");
 * - DELETE .../secrets/{secret_name}, `worker-delete-script-secret`: ["Workers Scripts Write"]; a
 *   new version with the current code, without the secret ("Remove a secret from a Worker script by
 *   creating a new version without that secret", the cloudflare SDK 7.3.0's description).
 * A missing script answers 404 code 10007 (as B's routes); a missing secret 404 code 10056 (the
 * OpenAPI documents only "4XX"; the code is the stand-in's choice, the status is what matters).
 */
import { randomUUID } from "node:crypto";

import { StandinError, type StandinRequest, type StandinRoute, type StandinState } from "../server";
import { scriptOf, workersRoutes, type StoredScript } from "./workers";

const OPENAPI = "cloudflare/api-schemas openapi.json (c92b9b0fde23ae00fece2025662f96dc8e2d6283)";
const SECRET_PATH = "/accounts/:account_id/workers/scripts/:script_name/secrets/:secret_name";

function requireScript(request: StandinRequest, state: StandinState): StoredScript {
  const script = scriptOf(state, request.params.account_id ?? "", request.params.script_name ?? "");
  if (script === undefined) throw new StandinError(404, 10007, "This Worker does not exist on your account.");
  return script;
}

function requireSecret(script: StoredScript, name: string) {
  const secret = script.current.bindings.find(
    (binding) => binding.name === name && binding.type === "secret_text",
  );
  if (secret === undefined) throw new StandinError(404, 10056, `Binding ${name} not found`);
  return secret;
}

/** The secrets routes: B's PUT, and GET and DELETE of one secret. */
export function workerSecretRoutes(): StandinRoute[] {
  const put = workersRoutes().find((route) => route.operationId === "worker-put-script-secret");
  if (put === undefined)
    throw new Error("tests/standin/routes/workers.ts no longer serves worker-put-script-secret");
  return [
    put,
    {
      method: "GET",
      path: SECRET_PATH,
      operationId: "worker-get-script-secret",
      permissions: ["Workers Tail Read", "Workers Scripts Write", "Workers Scripts Read"],
      resource: "account",
      source: `${OPENAPI} worker-get-script-secret (no x-api-token-group; the groups of worker-list-script-secrets)`,
      handle(request, { state }) {
        const secret = requireSecret(requireScript(request, state), request.params.secret_name ?? "");
        return { result: { name: secret.name, type: secret.type } };
      },
    },
    {
      method: "DELETE",
      path: SECRET_PATH,
      operationId: "worker-delete-script-secret",
      permissions: ["Workers Scripts Write"],
      resource: "account",
      source: `${OPENAPI} worker-delete-script-secret`,
      handle(request, { state }) {
        const script = requireScript(request, state);
        const name = request.params.secret_name ?? "";
        requireSecret(script, name);
        script.current = {
          ...script.current,
          id: randomUUID(),
          bindings: script.current.bindings.filter((binding) => binding.name !== name),
        };
        script.versions.push(script.current);
        return { result: null };
      },
    },
  ];
}
