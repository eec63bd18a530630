/**
 * The dynamic provider behind WorkerSecret (components/worker-secret.ts): one secret of one Worker,
 * through Cloudflare's secrets endpoint, which adds a version with the script's *current* code and
 * the secret, so it never touches the code CI deployed (cloudflare/api-schemas openapi.json at
 * c92b9b0fde23ae00fece2025662f96dc8e2d6283, each with its `x-api-token-group`):
 * - create / update: `PUT /accounts/{account_id}/workers/scripts/{script_name}/secrets`
 *   (`worker-put-script-secret`, Workers Scripts Write), body `{name, text, type: "secret_text"}`;
 *   a PUT of an existing name replaces it, so create is idempotent;
 * - read: `GET .../secrets/{secret_name}` (`worker-get-script-secret`; the value is omitted in the
 *   answer, and the operation carries no `x-api-token-group`: the stand-in accepts the groups of
 *   `worker-list-script-secrets`, Workers Scripts Read / Write, Workers Tail Read);
 * - delete: `DELETE .../secrets/{secret_name}` (`worker-delete-script-secret`, Workers Scripts Write).
 *
 * Pulumi serializes these functions into the stack's state and runs them in its dynamic-provider host,
 * without this repository's TypeScript: so this module imports types only, the functions reach the
 * `cloudflare` SDK (the one adapter, `secretsApi`) by `require` at run time, and they refer to nothing
 * but each other and the constants here. The secret's value and the admin token arrive as plain
 * strings (the host accepts no secrets); the engine keeps them secret in the state because their
 * inputs are secrets and WorkerSecret lists them in `additionalSecretOutputs`. No error this module
 * throws carries either (`redact`).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Cloudflare } from "cloudflare";

/** What the provider receives and keeps in the state (value and apiToken: secrets). */
export interface WorkerSecretState {
  readonly accountId: string;
  readonly scriptName: string;
  readonly secretName: string;
  /** The secret's text. */
  readonly value: string;
  /** The admin credential (`cloudflare:apiToken`); absent: CLOUDFLARE_API_TOKEN when the provider runs. */
  readonly apiToken?: string;
  /** Cloudflare API base URL, `.../client/v4` (`cloudflare:baseUrl`, else Cloudflare's). */
  readonly apiBaseUrl: string;
}

/** Inputs whose change means another secret (another name, script or account): a replacement. */
export const WORKER_SECRET_IDENTITY = ["accountId", "scriptName", "secretName"] as const;

/** The permission Cloudflare accepts for writing a Worker's secrets (x-api-token-group of the PUT and DELETE). */
const WRITE_PERMISSION = "Workers Scripts Write";
/** The environment variable read when the stack has no `cloudflare:apiToken` (as the Cloudflare provider does). */
const TOKEN_ENV = "CLOUDFLARE_API_TOKEN";

/** Replaces every occurrence of the secret's value and of the token in `text`. */
function redact(text: string, state: Pick<WorkerSecretState, "value" | "apiToken">): string {
  let result = text;
  for (const secret of [state.value, state.apiToken, process.env[TOKEN_ENV]]) {
    if (secret !== undefined && secret.length >= 4) result = result.split(secret).join("[secret]");
  }
  return result;
}

/** The one place the SDK is called: the three secrets operations, with the admin token. */
function secretsApi(state: WorkerSecretState) {
  const apiToken = state.apiToken ?? process.env[TOKEN_ENV];
  if (apiToken === undefined || apiToken === "") {
    throw new Error(
      `no admin credential to set the Worker secret ${state.secretName}: set cloudflare:apiToken ` +
        `(pulumi config set --secret cloudflare:apiToken <token>) or ${TOKEN_ENV} in pulumi's environment`,
    );
  }
  // Required here, not imported: this function runs in Pulumi's dynamic-provider host.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cloudflare: Client } = require("cloudflare") as { Cloudflare: typeof Cloudflare };
  const client = new Client({
    apiToken,
    // Never another credential from the environment (a Global API Key is refused by design).
    apiKey: null,
    apiEmail: null,
    userServiceKey: null,
    baseURL: state.apiBaseUrl,
    logLevel: "off",
  });
  const where = { account_id: state.accountId, script_name: state.scriptName };
  const secrets = client.workers.scripts.secrets;
  return {
    put: () =>
      secrets.update(state.scriptName, {
        account_id: state.accountId,
        name: state.secretName,
        text: state.value,
        type: "secret_text",
      }),
    get: () => secrets.get(state.secretName, where),
    delete: () => secrets.delete(state.secretName, where),
  };
}

/** An SDK error's HTTP status and Cloudflare's first error code and message, when it is an API answer. */
function apiFailure(
  error: unknown,
): { status: number; code: number | undefined; message: string } | undefined {
  const candidate = error as { status?: unknown; errors?: unknown };
  if (typeof candidate?.status !== "number") return undefined;
  const first = Array.isArray(candidate.errors)
    ? (candidate.errors[0] as { code?: unknown; message?: unknown } | undefined)
    : undefined;
  return {
    status: candidate.status,
    code: typeof first?.code === "number" ? first.code : undefined,
    message: typeof first?.message === "string" ? first.message : "",
  };
}

/** Whether Cloudflare answered that the script or the secret does not exist. */
function isNotFound(error: unknown): boolean {
  return apiFailure(error)?.status === 404;
}

/** A clear error for a failed call: what failed, Cloudflare's answer, and the fix; never a secret. */
function explain(action: string, state: WorkerSecretState, error: unknown): Error {
  const failure = apiFailure(error);
  const subject = `${action} the secret ${state.secretName} of Worker ${state.scriptName} (account ${state.accountId})`;
  const answer =
    failure === undefined
      ? `no answer from ${state.apiBaseUrl}: ${(error as Error)?.message ?? String(error)}`
      : `HTTP ${failure.status}${failure.code === undefined ? "" : `, code ${failure.code}`}${failure.message ? ` ${failure.message}` : ""}`;
  const fix =
    failure?.status === 403 || failure?.code === 10000
      ? `: the admin credential needs "${WRITE_PERMISSION}" on account ${state.accountId} (pulumi up prints the admin credential's exact permissions in the adminPermissions output)`
      : failure?.code === 1000 || failure?.code === 9106
        ? `: the admin credential is not a valid, active API token; check cloudflare:apiToken or ${TOKEN_ENV}`
        : failure?.status === 404
          ? `: the Worker script does not exist on the account (it is created by this stack; run pulumi up again)`
          : "";
  return new Error(redact(`could not ${subject}: ${answer}${fix}`, state));
}

async function putSecret(state: WorkerSecretState): Promise<void> {
  const api = secretsApi(state);
  try {
    await api.put();
  } catch (error) {
    throw explain("set", state, error);
  }
}

const idOf = (state: WorkerSecretState) => `${state.accountId}/${state.scriptName}/${state.secretName}`;

/** What the state keeps: the inputs, without any other key the caller may have passed. */
function stateOf(inputs: WorkerSecretState): WorkerSecretState {
  return {
    accountId: inputs.accountId,
    scriptName: inputs.scriptName,
    secretName: inputs.secretName,
    value: inputs.value,
    ...(inputs.apiToken === undefined ? {} : { apiToken: inputs.apiToken }),
    apiBaseUrl: inputs.apiBaseUrl,
  };
}

export const workerSecretProvider: pulumi.dynamic.ResourceProvider<WorkerSecretState, WorkerSecretState> = {
  async check(_olds, news) {
    const failures =
      typeof news.value === "string" && news.value === ""
        ? [{ property: "value", reason: "is empty; a Worker secret needs a value" }]
        : [];
    return { inputs: news, failures };
  },

  async diff(_id, olds, news) {
    const replaces = WORKER_SECRET_IDENTITY.filter((key) => olds[key] !== news[key]);
    // A new token or base URL changes nothing on Cloudflare, but the state must hold them for the
    // next read and delete; update then makes no call.
    const changed = (["value", "apiToken", "apiBaseUrl"] as const).filter((key) => olds[key] !== news[key]);
    return { changes: replaces.length + changed.length > 0, replaces: [...replaces] };
  },

  async create(inputs) {
    const state = stateOf(inputs);
    await putSecret(state);
    return { id: idOf(state), outs: state };
  },

  async update(_id, olds, news) {
    const state = stateOf(news);
    if (olds.value !== state.value) await putSecret(state);
    return { outs: state };
  },

  async read(id, props) {
    if (props === undefined) return { id, props };
    const state = stateOf(props);
    const api = secretsApi(state);
    try {
      await api.get();
    } catch (error) {
      // Gone (the secret, or the script with it): an empty id tells the engine so.
      if (isNotFound(error)) return { id: "" };
      throw explain("read", state, error);
    }
    // Cloudflare never returns a secret's text: the state keeps the value last set.
    return { id, props: state };
  },

  async delete(_id, props) {
    const state = stateOf(props);
    const api = secretsApi(state);
    try {
      await api.delete();
    } catch (error) {
      if (isNotFound(error)) return;
      throw explain("delete", state, error);
    }
  },
};
