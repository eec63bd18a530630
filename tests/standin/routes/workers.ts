/**
 * The stand-in's Workers routes: every call the application's deploy makes (wrangler 4.86.0 `deploy`,
 * `secret put`, `secret bulk`), each enforcing exactly the accepted groups of its row in
 * policies/lib/deploy-calls.ts (the same table the derivation reads; sources cited there), with the
 * behaviour wrangler relies on:
 * - unknown scripts answer 404 code 10007 (wrangler's WORKER_NOT_FOUND_ERR_CODE: "first deploy");
 * - an upload (PUT script, POST versions) replaces the bindings with the metadata's, keeping the
 *   previous ones whose type is in `keep_bindings` (OpenAPI: "List of binding types to keep from
 *   previous_upload") and that the metadata does not name; a secret is kept only that way, which is
 *   the strict reading: nothing is kept unless asked for;
 * - `GET /zones` lists only the zones the token may read (Cloudflare filters lists by the token).
 */
import { DEPLOY_CALLS, type DeployCall } from "../../../policies/lib/deploy-calls";
import {
  StandinError,
  tokenAllows,
  type StandinReply,
  type StandinRequest,
  type StandinRoute,
  type StandinState,
  type StandinToken,
} from "../server";

export interface WorkerBinding {
  readonly type: string;
  readonly name: string;
  readonly [field: string]: unknown;
}

export interface StoredVersion {
  readonly id: string;
  readonly bindings: readonly WorkerBinding[];
  readonly mainModule: string;
  readonly modules: Readonly<Record<string, string>>;
  readonly compatibilityDate: string | undefined;
  readonly compatibilityFlags: readonly string[];
}

export interface StoredScript {
  readonly accountId: string;
  readonly name: string;
  /** The deployed version (what serves traffic). */
  current: StoredVersion;
  readonly versions: StoredVersion[];
  subdomain: { enabled: boolean; previews_enabled: boolean };
  settings: Record<string, unknown>;
  lastDeployedFrom: "wrangler" | "api" | "dash";
}

export interface StandinZone {
  readonly id: string;
  readonly name: string;
  readonly accountId: string;
}

export interface WorkersState {
  readonly scripts: Map<string, StoredScript>;
  readonly zones: StandinZone[];
  readonly zoneRoutes: Map<string, { id: string; pattern: string; script: string }[]>;
  readonly kvNamespaces: Map<string, { id: string; title: string }[]>;
}

const WORKERS_KEY = "workers";

export function newWorkersState(zones: readonly StandinZone[] = []): Record<string, WorkersState> {
  return {
    [WORKERS_KEY]: { scripts: new Map(), zones: [...zones], zoneRoutes: new Map(), kvNamespaces: new Map() },
  };
}

export function workersState(state: StandinState): WorkersState {
  const workers = state[WORKERS_KEY] as WorkersState | undefined;
  if (workers === undefined) throw new Error("the stand-in was started without newWorkersState()");
  return workers;
}

const scriptKey = (accountId: string, name: string) => `${accountId}/${name}`;

export function scriptOf(state: StandinState, accountId: string, name: string): StoredScript | undefined {
  return workersState(state).scripts.get(scriptKey(accountId, name));
}

let counter = 0;
const newId = () => {
  counter += 1;
  return `${counter.toString(16).padStart(8, "0")}-0000-4000-8000-${Date.now().toString(16).padStart(12, "0").slice(-12)}`;
};

/**
 * Puts a script on the stand-in as Pulumi's first upload does (the provider's multipart PUT), with
 * secrets' text kept, so tests start from "after `pulumi up`".
 */
export function seedScript(
  state: StandinState,
  script: {
    accountId: string;
    name: string;
    bindings: readonly WorkerBinding[];
    content?: string;
    compatibilityDate?: string;
  },
): StoredScript {
  const version: StoredVersion = {
    id: newId(),
    bindings: script.bindings,
    mainModule: "index.js",
    modules: {
      "index.js": script.content ?? "export default { fetch() { return new Response('pulumi'); } };",
    },
    compatibilityDate: script.compatibilityDate,
    compatibilityFlags: [],
  };
  const stored: StoredScript = {
    accountId: script.accountId,
    name: script.name,
    current: version,
    versions: [version],
    subdomain: { enabled: false, previews_enabled: false },
    settings: { logpush: false, tags: [], tail_consumers: [], observability: { enabled: false } },
    lastDeployedFrom: "api",
  };
  workersState(state).scripts.set(scriptKey(script.accountId, script.name), stored);
  return stored;
}

const notFound = () => new StandinError(404, 10007, "This Worker does not exist on your account.");

function requireScript(request: StandinRequest, state: StandinState): StoredScript {
  const script = scriptOf(state, request.params.account_id ?? "", request.params.script_name ?? "");
  if (script === undefined) throw notFound();
  return script;
}

/** A binding as the settings API shows it: never a secret's text. */
const visible = (binding: WorkerBinding): WorkerBinding => {
  if (binding.type !== "secret_text") return binding;
  return { type: binding.type, name: binding.name };
};

function settingsOf(script: StoredScript) {
  return {
    bindings: script.current.bindings.map(visible),
    compatibility_date: script.current.compatibilityDate,
    compatibility_flags: script.current.compatibilityFlags,
    placement: {},
    usage_model: "standard",
    ...script.settings,
  };
}

/** A multipart upload (PUT script, POST versions) as a version, from the previous one's bindings. */
async function versionFromUpload(
  request: StandinRequest,
  previous: StoredVersion | undefined,
): Promise<StoredVersion> {
  const form = await request.formData();
  const rawMetadata = form.get("metadata");
  if (typeof rawMetadata !== "string" && !(rawMetadata instanceof Blob)) {
    throw new StandinError(400, 10021, "Upload has no metadata part");
  }
  const metadata = JSON.parse(typeof rawMetadata === "string" ? rawMetadata : await rawMetadata.text()) as {
    main_module?: string;
    body_part?: string;
    bindings?: WorkerBinding[];
    keep_bindings?: string[];
    compatibility_date?: string;
    compatibility_flags?: string[];
  };
  const modules: Record<string, string> = {};
  for (const [name, value] of form.entries()) {
    if (name === "metadata") continue;
    modules[name] = typeof value === "string" ? value : await value.text();
  }
  const mainModule = metadata.main_module ?? metadata.body_part ?? "";
  if (!(mainModule in modules))
    throw new StandinError(400, 10021, `No such module "${mainModule}" in the upload`);
  const named = new Set((metadata.bindings ?? []).map((binding) => binding.name));
  const keep = new Set(metadata.keep_bindings ?? []);
  const inherited = (metadata.bindings ?? []).map((binding) => {
    if (binding.type !== "inherit") return binding;
    const found = previous?.bindings.find((old) => old.name === binding.name);
    if (found === undefined && request.query.get("bindings_inherit") === "strict") {
      throw new StandinError(400, 10021, `binding ${binding.name} cannot be inherited: no previous binding`);
    }
    return found;
  });
  const kept = (previous?.bindings ?? []).filter((old) => keep.has(old.type) && !named.has(old.name));
  return {
    id: newId(),
    bindings: [...inherited.filter((binding): binding is WorkerBinding => binding !== undefined), ...kept],
    mainModule,
    modules,
    compatibilityDate: metadata.compatibility_date,
    compatibilityFlags: metadata.compatibility_flags ?? [],
  };
}

type Handler = (
  request: StandinRequest,
  state: StandinState,
  call: DeployCall,
  token: StandinToken | undefined,
) => StandinReply | Promise<StandinReply>;

const key = (method: string, path: string) => `${method} ${path}`;

const HANDLERS: Readonly<Record<string, Handler>> = {
  [key("PUT", "/accounts/{account_id}/workers/scripts/{script_name}")]: async (request, state) => {
    const accountId = request.params.account_id ?? "";
    const name = request.params.script_name ?? "";
    const existing = scriptOf(state, accountId, name);
    const version = await versionFromUpload(request, existing?.current);
    if (existing === undefined) {
      workersState(state).scripts.set(scriptKey(accountId, name), {
        accountId,
        name,
        current: version,
        versions: [version],
        subdomain: { enabled: false, previews_enabled: false },
        settings: { logpush: false, tags: [], tail_consumers: [], observability: { enabled: false } },
        lastDeployedFrom: "wrangler",
      });
    } else {
      existing.versions.push(version);
      existing.current = version;
      existing.lastDeployedFrom = "wrangler";
    }
    return {
      result: {
        id: name,
        etag: version.id,
        deployment_id: version.id,
        startup_time_ms: 1,
        handlers: ["fetch"],
      },
    };
  },
  [key("GET", "/accounts/{account_id}/workers/services/{script_name}")]: (request, state) => {
    const script = requireScript(request, state);
    return {
      result: {
        id: script.name,
        default_environment: {
          environment: "production",
          script: { tag: `tag-${script.name}`, tags: [], last_deployed_from: script.lastDeployedFrom },
        },
      },
    };
  },
  [key("GET", "/accounts/{account_id}/workers/scripts/{script_name}/deployments")]: (request, state) => {
    const script = requireScript(request, state);
    return {
      result: {
        deployments: [
          {
            id: `deployment-${script.current.id}`,
            source: "api",
            strategy: "percentage",
            versions: [{ version_id: script.current.id, percentage: 100 }],
          },
        ],
      },
    };
  },
  [key("GET", "/accounts/{account_id}/workers/scripts/{script_name}/settings")]: (request, state) => ({
    result: settingsOf(requireScript(request, state)),
  }),
  [key("POST", "/accounts/{account_id}/workers/scripts/{script_name}/versions")]: async (request, state) => {
    const script = requireScript(request, state);
    const version = await versionFromUpload(request, script.current);
    script.versions.push(version);
    return {
      result: {
        id: version.id,
        number: script.versions.length,
        metadata: { source: "wrangler" },
        resources: {
          script: { etag: version.id, handlers: ["fetch"] },
          bindings: version.bindings.map(visible),
        },
        startup_time_ms: 1,
      },
    };
  },
  [key("POST", "/accounts/{account_id}/workers/scripts/{script_name}/deployments")]: (request, state) => {
    const script = requireScript(request, state);
    const body = request.json<{ versions?: { version_id: string; percentage: number }[] }>();
    const target = body.versions?.find((entry) => entry.percentage === 100);
    const version = script.versions.find((candidate) => candidate.id === target?.version_id);
    if (version === undefined)
      throw new StandinError(400, 10021, "deployment must name one uploaded version at 100%");
    script.current = version;
    script.lastDeployedFrom = "wrangler";
    return { result: { id: `deployment-${version.id}`, strategy: "percentage", versions: body.versions } };
  },
  [key("PATCH", "/accounts/{account_id}/workers/scripts/{script_name}/script-settings")]: (
    request,
    state,
  ) => {
    const script = requireScript(request, state);
    script.settings = { ...script.settings, ...request.json<Record<string, unknown>>() };
    return { result: script.settings };
  },
  [key("GET", "/accounts/{account_id}/workers/scripts/{script_name}/subdomain")]: (request, state) => ({
    result: requireScript(request, state).subdomain,
  }),
  [key("POST", "/accounts/{account_id}/workers/scripts/{script_name}/subdomain")]: (request, state) => {
    const script = requireScript(request, state);
    const body = request.json<{ enabled?: boolean; previews_enabled?: boolean }>();
    script.subdomain = {
      enabled: body.enabled ?? script.subdomain.enabled,
      previews_enabled: body.previews_enabled ?? body.enabled ?? script.subdomain.previews_enabled,
    };
    return { result: script.subdomain };
  },
  [key("PUT", "/accounts/{account_id}/workers/scripts/{script_name}/secrets")]: (request, state) => {
    const script = requireScript(request, state);
    const body = request.json<{ name?: string; text?: string; type?: string }>();
    if (!body.name || body.type !== "secret_text")
      throw new StandinError(400, 10021, "a secret needs name and type secret_text");
    const secret: WorkerBinding = { type: "secret_text", name: body.name, text: body.text ?? "" };
    script.current = {
      ...script.current,
      id: newId(),
      bindings: [...script.current.bindings.filter((binding) => binding.name !== body.name), secret],
    };
    script.versions.push(script.current);
    return { result: { name: body.name, type: "secret_text" } };
  },
  [key("PATCH", "/accounts/{account_id}/workers/scripts/{script_name}/settings")]: async (request, state) => {
    const script = requireScript(request, state);
    const form = await request.formData();
    const raw = form.get("settings");
    const settings = JSON.parse(
      typeof raw === "string" ? raw : raw instanceof Blob ? await raw.text() : "{}",
    ) as {
      bindings?: WorkerBinding[];
    };
    if (settings.bindings !== undefined) {
      // A binding given by type and name only is the existing one (wrangler's inheritBindings).
      const bindings = settings.bindings.map((binding) => {
        const fields = Object.keys(binding).filter((field) => field !== "type" && field !== "name");
        if (fields.length > 0) return binding;
        const existing = script.current.bindings.find(
          (old) => old.name === binding.name && old.type === binding.type,
        );
        if (existing === undefined)
          throw new StandinError(400, 10021, `binding ${binding.name} has no existing value`);
        return existing;
      });
      script.current = { ...script.current, id: newId(), bindings };
      script.versions.push(script.current);
    }
    return { result: settingsOf(script) };
  },
  [key("POST", "/accounts/{account_id}/storage/kv/namespaces")]: (request, state) => {
    const accountId = request.params.account_id ?? "";
    const body = request.json<{ title?: string }>();
    const namespace = { id: newId().replace(/-/g, ""), title: body.title ?? "" };
    const namespaces = workersState(state).kvNamespaces;
    namespaces.set(accountId, [...(namespaces.get(accountId) ?? []), namespace]);
    return { result: namespace };
  },
  [key("GET", "/accounts/{account_id}/storage/kv/namespaces")]: (request, state) => ({
    result: workersState(state).kvNamespaces.get(request.params.account_id ?? "") ?? [],
    resultInfo: { page: 1, per_page: 100, count: 0, total_count: 0 },
  }),
  [key("POST", "/zones/{zone_id}/workers/routes")]: (request, state) => {
    const zoneId = request.params.zone_id ?? "";
    const body = request.json<{ pattern?: string; script?: string }>();
    const routes = workersState(state).zoneRoutes.get(zoneId) ?? [];
    if (routes.some((route) => route.pattern === body.pattern)) {
      throw new StandinError(409, 10020, "A route with the same pattern already exists");
    }
    const route = { id: newId().replace(/-/g, ""), pattern: body.pattern ?? "", script: body.script ?? "" };
    workersState(state).zoneRoutes.set(zoneId, [...routes, route]);
    return { result: route };
  },
  [key("GET", "/zones/{zone_id}/workers/routes")]: (request, state) => ({
    result: workersState(state).zoneRoutes.get(request.params.zone_id ?? "") ?? [],
  }),
  [key("PUT", "/accounts/{account_id}/workers/scripts/{script_name}/routes")]: (request, state) => {
    const name = request.params.script_name ?? "";
    const wanted = request.json<{ pattern: string; zone_id?: string }[]>();
    const workers = workersState(state);
    for (const [zoneId, routes] of workers.zoneRoutes) {
      workers.zoneRoutes.set(
        zoneId,
        routes.filter((route) => route.script !== name),
      );
    }
    for (const route of wanted) {
      if (route.zone_id === undefined) throw new StandinError(400, 10021, "route without zone_id");
      const routes = workers.zoneRoutes.get(route.zone_id) ?? [];
      workers.zoneRoutes.set(route.zone_id, [
        ...routes,
        { id: newId(), pattern: route.pattern, script: name },
      ]);
    }
    return { result: wanted };
  },
  [key("GET", "/zones")]: (request, state, call, token) => {
    const name = request.query.get("name");
    const accountId = request.query.get("account.id");
    // Cloudflare lists only the zones the token can read.
    return {
      result: workersState(state).zones.filter(
        (zone) =>
          (name === null || zone.name === name) &&
          (accountId === null || zone.accountId === accountId) &&
          token !== undefined &&
          tokenAllows(token, call.accepted, `com.cloudflare.api.account.zone.${zone.id}`),
      ),
    };
  },
};

/** The routes, one per row of the call table; throws if a row has no handler (table and stand-in drifted). */
export function workersRoutes(): StandinRoute[] {
  return DEPLOY_CALLS.map((call) => {
    const handler = HANDLERS[key(call.method, call.path)];
    if (handler === undefined) throw new Error(`no stand-in handler for ${call.method} ${call.path}`);
    const listFiltered = call.path === "/zones";
    return {
      method: call.method,
      path: call.path.replace(/\{([a-z_]+)\}/g, ":$1"),
      operationId: call.operationId,
      permissions: call.accepted,
      resource: listFiltered ? "authenticated" : call.resource,
      source: call.source,
      handle: (request, context) => handler(request, context.state, call, context.token),
    } satisfies StandinRoute;
  });
}
