/**
 * The stack configuration schema. Pure: it takes a Pulumi-style config map (full keys such as
 * `scoped-edge:accountId`, values as the CLI hands them to the program: strings, with structured
 * values as JSON) and returns a typed StackConfig, or throws one ConfigError that lists every
 * problem with its key, what is wrong and the command that fixes it. Secret values are checked for
 * presence and secrecy only; they are never read into StackConfig nor quoted in a message.
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { z } from "zod";

import { closestNames, PERMISSION_GROUPS, permissionByName } from "../policies/lib/permission-catalog";
import { WORKER_BINDINGS } from "../worker/src/defaults";

// TODO(C): import both from worker/src/defaults.ts once engineer D exports them there.
const COMPATIBILITY_DATE = "2026-04-26";
const RATE_LIMIT_DEFAULTS = { limit: 20, periodSeconds: 60 } as const;
import { scheduleProblem } from "../policies/lib/rotation";

export const PROJECT = "scoped-edge";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The longest a deploy token may live in each environment. */
export const MAX_TTL_DAYS: Readonly<Record<Environment, number>> = { dev: 90, staging: 60, prod: 30 };

/** Binding names the stack manages (worker/src/defaults.ts, the R2 binding); plain vars must not shadow them. */
export const RESERVED_BINDING_NAMES: readonly string[] = [...Object.values(WORKER_BINDINGS), "ASSETS_BUCKET"];

export interface ZoneConfig {
  readonly name: string;
  readonly id: string;
  readonly routes: readonly string[];
  readonly customHostnames: readonly string[];
}

/** Who uploads the Worker's code: the application repository's CI (with the deploy token) or Pulumi. */
export type CodeDeployer = "ci" | "pulumi";
/** Who owns the Worker's routes: Pulumi (admin credential) or the application's `wrangler deploy`. */
export type RoutesDeployer = "pulumi" | "ci";

export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  readonly environment: Environment;
  /** `pulumi`: Pulumi deploys the code itself and no deploy token exists at all. */
  readonly codeDeployedBy: CodeDeployer;
  readonly routesDeployedBy: RoutesDeployer;
  readonly accountId: string;
  readonly zones: readonly ZoneConfig[];
  readonly worker: {
    readonly name: string;
    readonly compatibilityDate: string;
    readonly vars: Readonly<Record<string, string>>;
    /** The Rate Limiting binding's namespace and its simple limit. */
    readonly rateLimit: {
      readonly limit: number;
      readonly periodSeconds: 10 | 60;
      /** A positive integer as a string, unique per account (Cloudflare's namespace_id). */
      readonly namespaceId: string;
    };
  };
  /** R2 bucket name, when the stack has one. */
  readonly r2Bucket?: string;
  readonly token: {
    readonly owner: "account" | "user";
    readonly ttlDays: number;
    readonly rotationDays: number;
    readonly graceDays: number;
    readonly generation: number;
    readonly notBefore?: string;
    readonly allowedIps: readonly string[];
    readonly deniedIps: readonly string[];
    /** Canonical catalog names of permissions added on purpose. */
    readonly extraPermissions: readonly string[];
  };
  readonly github: {
    readonly owner: string;
    readonly repository: string;
    /** GitHub environment for an environment secret; undefined for a repository secret. */
    readonly environment?: string;
    /** Required reviewers of the environment (GitHub user and team ids); empty without an environment. */
    readonly reviewers: { readonly users: readonly number[]; readonly teams: readonly number[] };
    /** The environment's deployment branch policy: protected branches only. */
    readonly protectedBranchesOnly: boolean;
  };
}

/** One problem with one key. */
export interface ConfigProblem {
  readonly key: string;
  readonly problem: string;
  readonly fix: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (nothing was deployed):\n` +
        problems.map((p) => `  - ${p.key}: ${p.problem}\n    fix: ${p.fix}`).join("\n"),
    );
  }
}

export interface ConfigContext {
  readonly stack: string;
  /** Full keys whose values are Pulumi secrets (`pulumi config set --secret`). */
  readonly secretKeys: ReadonlySet<string>;
}

// ---- value schemas ---------------------------------------------------------------------------

const HEX32 = /^[0-9a-f]{32}$/;
const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Whether a value starting YYYY-MM-DD names a day that exists. Date.parse rolls 2026-02-30 over to
 * March 2nd instead of rejecting it.
 */
export function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Pulumi hands structured config to the program as JSON strings; accept both forms. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

/** Integers arrive as strings ("45"). */
const integer = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (value) => (typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value),
    z
      .number({ error: "must be a whole number" })
      .int({ error: "must be a whole number" })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  );

/** Booleans arrive as strings ("true"). */
const boolean = z.preprocess(
  (value) => (value === "true" ? true : value === "false" ? false : value),
  z.boolean({ error: "must be true or false" }),
);

/** GitHub user or team ids: positive integers. */
const githubIds = (what: string) =>
  json(
    z.array(
      z
        .number({ error: `must be a numeric GitHub ${what} id` })
        .int({ error: `must be a numeric GitHub ${what} id` })
        .min(1, { error: `must be a numeric GitHub ${what} id` }),
    ),
  );

const accountId = z
  .string()
  .regex(HEX32, { error: "must be a 32-character lowercase hex Cloudflare account id" });
const zoneId = z.string().regex(HEX32, { error: "must be a 32-character lowercase hex Cloudflare zone id" });

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const cidrList = json(
  z.array(
    z.string().refine(isCidr, { error: "must be an IPv4/IPv6 address or CIDR such as 203.0.113.0/24" }),
  ),
);

const zoneSchema = z.object({
  name: z.string().regex(HOSTNAME, { error: "must be the zone's domain name, e.g. example.com" }),
  id: zoneId,
  routes: z.array(z.string()).default([]),
  customHostnames: z
    .array(z.string().regex(HOSTNAME, { error: "must be a hostname such as app.customer.com" }))
    .default([]),
});

/** Project keys, their schema, and the default Pulumi.yaml declares (undefined: required). */
const PROJECT_KEYS = {
  environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(", ")}` }),
  accountId,
  zones: json(z.array(zoneSchema).min(1, { error: "must list at least one zone" })),
  workerName: z.string().regex(/^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/, {
    error: "must be 1-63 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit",
  }),
  compatibilityDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "must be a date in the form YYYY-MM-DD" })
    .refine(isCalendarDate, { error: "is not a real date" }),
  workerVars: json(
    z.record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "var names must be identifiers" }),
      z.string({ error: "var values must be strings" }),
    ),
  ),
  r2Bucket: z.string().regex(/^(|[a-z0-9][a-z0-9-]{1,61}[a-z0-9])$/, {
    error: "must be 3-63 lowercase letters, digits or '-' (or empty for no bucket)",
  }),
  tokenOwner: z.enum(["account", "user"], { error: "must be account or user" }),
  tokenTtlDays: integer(1),
  rotationDays: integer(1),
  rotationGraceDays: integer(0),
  rotationGeneration: integer(0),
  tokenNotBefore: z
    .string()
    .regex(new RegExp(`^$|${RFC3339.source}`), {
      error: "must be an RFC 3339 UTC time such as 2026-12-01T00:00:00Z (or empty)",
    })
    // Only when the form is right: one problem per value.
    .refine((value) => !RFC3339.test(value) || isCalendarDate(value), { error: "is not a real date" }),
  tokenAllowedIps: cidrList,
  tokenDeniedIps: cidrList,
  extraPermissions: json(z.array(z.string())),
  githubRepository: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/, {
    error: "must be owner/name, e.g. acme/edge-app",
  }),
  githubEnvironment: z
    .string()
    .regex(/^[^/\\'"`]{0,255}$/, { error: "is not a valid GitHub environment name" }),
  codeDeployedBy: z.enum(["ci", "pulumi"], { error: "must be ci or pulumi" }),
  routesDeployedBy: z.enum(["pulumi", "ci"], { error: "must be pulumi or ci" }),
  rateLimitRequests: integer(1, 10_000),
  rateLimitPeriodSeconds: z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value),
    z.union([z.literal(10), z.literal(60)], { error: "must be 10 or 60 (Cloudflare's only periods)" }),
  ),
  rateLimitNamespaceId: z.string().regex(/^(|[1-9][0-9]{0,17})$/, {
    error: "must be a positive integer such as 1001 (or empty to derive one from workerName)",
  }),
  githubReviewerUsers: githubIds("user"),
  githubReviewerTeams: githubIds("team"),
  githubProtectedBranchesOnly: boolean,
} as const;

type ProjectKey = keyof typeof PROJECT_KEYS;

/** Defaults, identical to the ones declared in Pulumi.yaml (a test keeps them in step). */
export const CONFIG_DEFAULTS: Partial<Record<ProjectKey, unknown>> = {
  compatibilityDate: COMPATIBILITY_DATE,
  workerVars: {},
  r2Bucket: "",
  tokenOwner: "account",
  tokenTtlDays: 45,
  rotationDays: 30,
  rotationGraceDays: 7,
  rotationGeneration: 0,
  tokenNotBefore: "",
  tokenAllowedIps: [],
  tokenDeniedIps: [],
  extraPermissions: [],
  githubEnvironment: "",
  codeDeployedBy: "ci",
  routesDeployedBy: "pulumi",
  rateLimitRequests: RATE_LIMIT_DEFAULTS.limit,
  rateLimitPeriodSeconds: RATE_LIMIT_DEFAULTS.periodSeconds,
  rateLimitNamespaceId: "",
  githubReviewerUsers: [],
  githubReviewerTeams: [],
  githubProtectedBranchesOnly: true,
};

/**
 * The Rate Limiting namespace id when rateLimitNamespaceId is empty: 1 + the first 32 bits of the
 * SHA-256 of the worker name, so each Worker of an account gets its own counters and the id is stable
 * across runs. Cloudflare wants a positive integer unique per account; set the key to choose one.
 */
export function derivedRateLimitNamespaceId(workerName: string): string {
  return String(1 + createHash("sha256").update(workerName).digest().readUInt32BE(0));
}

/** Secret project keys: required, and only accepted as Pulumi secrets. */
export const SECRET_KEYS = ["providerKey"] as const;

/** Provider keys that would put a Global API Key in play: refused outright. */
const GLOBAL_KEY_KEYS = ["cloudflare:apiKey", "cloudflare:email", "cloudflare:apiUserServiceKey"];
/** Provider credentials that must be secrets when set. */
const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken", "github:token"];

const STRUCTURED_KEYS = new Set<ProjectKey>([
  "zones",
  "githubReviewerUsers",
  "githubReviewerTeams",
  "workerVars",
  "tokenAllowedIps",
  "tokenDeniedIps",
  "extraPermissions",
]);

function setCommand(stack: string, key: string, value: string, secret = false): string {
  const full = key.includes(":") ? key : `${PROJECT}:${key}`;
  return `pulumi config set ${secret ? "--secret " : ""}${full} ${value} --stack ${stack}`;
}

function fixFor(stack: string, key: ProjectKey, path: readonly PropertyKey[]): string {
  if (STRUCTURED_KEYS.has(key) && path.length > 0) {
    const rendered = path
      .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
      .join("");
    return `pulumi config set --path '${PROJECT}:${key}${rendered}' <value> --stack ${stack} (or edit Pulumi.${stack}.yaml)`;
  }
  const examples: Partial<Record<ProjectKey, string>> = {
    environment: "dev",
    accountId: "<32-hex account id from the dashboard's Overview page>",
    workerName: "edge-chat",
    compatibilityDate: COMPATIBILITY_DATE,
    tokenTtlDays: "45",
    githubRepository: "acme/edge-app",
    tokenOwner: "account",
  };
  if (STRUCTURED_KEYS.has(key)) return `edit ${PROJECT}:${key} in Pulumi.${stack}.yaml`;
  return setCommand(stack, key, examples[key] ?? "<value>");
}

/** Validates the whole config map; throws ConfigError listing every problem. */
export function parseStackConfig(
  config: Readonly<Record<string, unknown>>,
  context: ConfigContext,
): StackConfig {
  const { stack, secretKeys } = context;
  const problems: ConfigProblem[] = [];
  const values: Parsed = {};
  const knownKeys = [...Object.keys(PROJECT_KEYS), ...SECRET_KEYS];

  // Typos in our namespace would otherwise be silently ignored.
  for (const fullKey of Object.keys(config)) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const bare = fullKey.slice(PROJECT.length + 1);
    if (!knownKeys.includes(bare)) {
      problems.push({
        key: fullKey,
        problem: `is not a scoped-edge setting (did you mean ${closestNames(bare, knownKeys, 1).map((k) => `${PROJECT}:${k}`)[0]}?)`,
        fix: `pulumi config rm ${fullKey} --stack ${stack}`,
      });
    }
  }

  for (const key of Object.keys(PROJECT_KEYS) as ProjectKey[]) {
    const fullKey = `${PROJECT}:${key}`;
    const raw = config[fullKey] ?? CONFIG_DEFAULTS[key];
    if (raw === undefined) {
      problems.push({ key: fullKey, problem: "is required but not set", fix: fixFor(stack, key, []) });
      continue;
    }
    const result = PROJECT_KEYS[key].safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const where = issue.path
          .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
          .join("");
        problems.push({
          key: `${fullKey}${where}`,
          problem: issue.message,
          fix: fixFor(stack, key, issue.path),
        });
      }
      continue;
    }
    (values as Record<string, unknown>)[key] = result.data;
  }

  for (const key of SECRET_KEYS) {
    const fullKey = `${PROJECT}:${key}`;
    if (config[fullKey] === undefined || config[fullKey] === "") {
      problems.push({
        key: fullKey,
        problem: "is required but not set",
        fix: setCommand(stack, key, "<value>", true),
      });
    } else if (!secretKeys.has(fullKey)) {
      problems.push({
        key: fullKey,
        problem: "is stored as plain text; it must be a Pulumi secret",
        fix: setCommand(stack, key, "<value>", true),
      });
    }
  }
  // Worker vars deploy as plain_text bindings: a secret there would be readable by anyone with
  // dashboard access, and Pulumi would still believe it secret.
  const workerVarsKey = `${PROJECT}:workerVars`;
  if (secretKeys.has(workerVarsKey)) {
    problems.push({
      key: workerVarsKey,
      problem: "holds a Pulumi secret, but Worker vars are deployed as plain text",
      fix:
        `keep only non-secret values in ${workerVarsKey} (pulumi config set --path '${workerVarsKey}.<NAME>' <value> --stack ${stack}); ` +
        `the provider key belongs in ${PROJECT}:providerKey, which is deployed as a secret_text binding`,
    });
  }
  for (const fullKey of PROVIDER_SECRET_KEYS) {
    if (config[fullKey] !== undefined && !secretKeys.has(fullKey)) {
      problems.push({
        key: fullKey,
        problem: "is stored as plain text; it must be a Pulumi secret",
        fix: setCommand(stack, fullKey, "<value>", true),
      });
    }
  }
  for (const fullKey of GLOBAL_KEY_KEYS) {
    if (config[fullKey] !== undefined) {
      problems.push({
        key: fullKey,
        problem: "configures a Global API Key, which can do anything the user can; scoped-edge refuses it",
        fix: `pulumi config rm ${fullKey} --stack ${stack}; then pulumi config set --secret cloudflare:apiToken <token with "Account API Tokens Write"> --stack ${stack}`,
      });
    }
  }

  problems.push(...crossFieldProblems(values, stack));
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return assemble(values as Required<Parsed>, stack);
}

type Parsed = { [K in ProjectKey]?: z.output<(typeof PROJECT_KEYS)[K]> };

/** Rules that involve more than one value. */
function crossFieldProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const key = (name: string) => `${PROJECT}:${name}`;

  if (values.zones) {
    const seenRoutes = new Map<string, string>();
    const seenZones = new Set<string>();
    const seenHostnames = new Set<string>();
    values.zones.forEach((zone, zoneIndex) => {
      const at = (field: string) => `${key("zones")}[${zoneIndex}].${field}`;
      const pathFix = (field: string) =>
        `pulumi config set --path '${PROJECT}:zones[${zoneIndex}].${field}' <value> --stack ${stack} (or edit Pulumi.${stack}.yaml)`;
      if (seenZones.has(zone.id)) {
        problems.push({
          key: at("id"),
          problem: `zone ${zone.id} is listed twice`,
          fix: `merge the two entries in Pulumi.${stack}.yaml`,
        });
      }
      seenZones.add(zone.id);
      zone.routes.forEach((pattern, routeIndex) => {
        const routeKey = `${at("routes")}[${routeIndex}]`;
        const problem = routePatternProblem(pattern, zone.name);
        if (problem) {
          problems.push({ key: routeKey, problem, fix: pathFix(`routes[${routeIndex}]`) });
          return;
        }
        const previous = seenRoutes.get(pattern);
        if (previous) {
          problems.push({
            key: routeKey,
            problem: `duplicate route "${pattern}" (already at ${previous})`,
            fix: `remove one of them from Pulumi.${stack}.yaml`,
          });
        } else {
          seenRoutes.set(pattern, routeKey);
        }
      });
      zone.customHostnames.forEach((hostname, index) => {
        if (seenHostnames.has(hostname)) {
          problems.push({
            key: `${at("customHostnames")}[${index}]`,
            problem: `duplicate custom hostname "${hostname}"`,
            fix: `remove one of them from Pulumi.${stack}.yaml`,
          });
        }
        seenHostnames.add(hostname);
      });
    });
  }

  if (values.environment !== undefined && values.tokenTtlDays !== undefined) {
    const max = MAX_TTL_DAYS[values.environment];
    if (values.tokenTtlDays > max) {
      problems.push({
        key: key("tokenTtlDays"),
        problem: `${values.tokenTtlDays} days exceeds the ${values.environment} maximum of ${max} days`,
        fix: setCommand(stack, "tokenTtlDays", String(max)),
      });
    }
  }
  if (
    values.tokenTtlDays !== undefined &&
    values.rotationDays !== undefined &&
    values.rotationGraceDays !== undefined
  ) {
    const problem = scheduleProblem({
      ttlDays: values.tokenTtlDays,
      rotationDays: values.rotationDays,
      graceDays: values.rotationGraceDays,
    });
    if (problem) {
      problems.push({
        key: key("tokenTtlDays"),
        problem,
        fix: setCommand(stack, "tokenTtlDays", String(values.rotationDays + values.rotationGraceDays + 1)),
      });
    }
  }

  problems.push(...deploymentModelProblems(values, stack));

  for (const [index, name] of (values.extraPermissions ?? []).entries()) {
    const group = permissionByName(name);
    const at = `${key("extraPermissions")}[${index}]`;
    if (!group) {
      problems.push({
        key: at,
        problem: `unknown permission "${name}"; closest known: ${closestNames(
          name,
          PERMISSION_GROUPS.map((g) => g.name),
        ).join(", ")}`,
        fix: `use the permission group's exact Cloudflare name in Pulumi.${stack}.yaml`,
      });
    } else if (group.scope === "user") {
      problems.push({
        key: at,
        problem: `"${group.name}" is a user-level permission and cannot be scoped to this account and its zones`,
        fix: `remove it from ${key("extraPermissions")} in Pulumi.${stack}.yaml`,
      });
    }
  }

  for (const name of Object.keys(values.workerVars ?? {})) {
    if (RESERVED_BINDING_NAMES.includes(name)) {
      problems.push({
        key: `${key("workerVars")}.${name}`,
        problem: `"${name}" is a binding the stack manages; a plain var must not shadow it`,
        fix:
          name === "PROVIDER_KEY"
            ? setCommand(stack, "providerKey", "<value>", true)
            : `rename the var in Pulumi.${stack}.yaml`,
      });
    }
  }
  return problems;
}

/** GitHub allows at most six required reviewers per environment (REST: "up to 6 users or teams"). */
export const MAX_GITHUB_REVIEWERS = 6;

/** Who deploys what, and the GitHub environment settings that only make sense with an environment. */
function deploymentModelProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const key = (name: string) => `${PROJECT}:${name}`;
  if (values.codeDeployedBy === "pulumi" && values.routesDeployedBy === "ci") {
    problems.push({
      key: key("routesDeployedBy"),
      problem:
        "is ci, but codeDeployedBy is pulumi: with Pulumi deploying the code there is no deploy token and no CI deploy to carry routes",
      fix: `${setCommand(stack, "routesDeployedBy", "pulumi")} (or set ${key("codeDeployedBy")} to ci)`,
    });
  }
  if (values.githubEnvironment === "") {
    const envFix = setCommand(stack, "githubEnvironment", stack);
    for (const name of ["githubReviewerUsers", "githubReviewerTeams"] as const) {
      if ((values[name] ?? []).length > 0) {
        problems.push({
          key: key(name),
          problem: `lists required reviewers, but ${key("githubEnvironment")} is empty: reviewers belong to a GitHub environment`,
          fix: `${envFix}, or remove ${key(name)} from Pulumi.${stack}.yaml`,
        });
      }
    }
    if (values.githubProtectedBranchesOnly === false) {
      problems.push({
        key: key("githubProtectedBranchesOnly"),
        problem: `is false, but ${key("githubEnvironment")} is empty: the branch policy belongs to a GitHub environment`,
        fix: `${envFix}, or remove ${key("githubProtectedBranchesOnly")} from Pulumi.${stack}.yaml`,
      });
    }
  }
  const reviewers = (values.githubReviewerUsers?.length ?? 0) + (values.githubReviewerTeams?.length ?? 0);
  if (reviewers > MAX_GITHUB_REVIEWERS) {
    problems.push({
      key: key("githubReviewerUsers"),
      problem: `${reviewers} required reviewers in all (users and teams); GitHub allows at most ${MAX_GITHUB_REVIEWERS} per environment`,
      fix: `keep at most ${MAX_GITHUB_REVIEWERS} ids across ${key("githubReviewerUsers")} and ${key("githubReviewerTeams")} in Pulumi.${stack}.yaml (a team counts as one)`,
    });
  }
  return problems;
}

/** Why a Workers route pattern is unusable on `zoneName`, or undefined when it is fine. */
export function routePatternProblem(pattern: string, zoneName: string): string | undefined {
  const slash = pattern.indexOf("/");
  if (slash <= 0) return `route "${pattern}" must be host/path, e.g. api.${zoneName}/*`;
  if (/^[a-z]+:\/\//i.test(pattern))
    return `route "${pattern}" must not include a scheme; write ${pattern.replace(/^[a-z]+:\/\//i, "")}`;
  const host = pattern.slice(0, slash).toLowerCase();
  const bare = host.startsWith("*.") ? host.slice(2) : host.startsWith("*") ? host.slice(1) : host;
  if (bare.includes("*")) return `route "${pattern}" may use a wildcard only at the start of its host`;
  if (bare !== zoneName && !bare.endsWith(`.${zoneName}`)) {
    return `route host "${host}" is not in zone ${zoneName}`;
  }
  return undefined;
}

function assemble(values: Required<Parsed>, stack: string): StackConfig {
  const [owner = "", repository = ""] = values.githubRepository.split("/");
  const notBefore = values.tokenNotBefore === "" ? undefined : values.tokenNotBefore;
  const environment = values.githubEnvironment === "" ? undefined : values.githubEnvironment;
  const r2Bucket = values.r2Bucket === "" ? undefined : values.r2Bucket;
  return {
    project: PROJECT,
    stack,
    environment: values.environment,
    accountId: values.accountId,
    zones: values.zones.map((zone) => ({
      ...zone,
      routes: [...zone.routes],
      customHostnames: [...zone.customHostnames],
    })),
    worker: {
      name: values.workerName,
      compatibilityDate: values.compatibilityDate,
      vars: { ...values.workerVars },
      rateLimit: {
        limit: values.rateLimitRequests,
        periodSeconds: values.rateLimitPeriodSeconds,
        namespaceId:
          values.rateLimitNamespaceId === ""
            ? derivedRateLimitNamespaceId(values.workerName)
            : values.rateLimitNamespaceId,
      },
    },
    ...(r2Bucket === undefined ? {} : { r2Bucket }),
    token: {
      owner: values.tokenOwner,
      ttlDays: values.tokenTtlDays,
      rotationDays: values.rotationDays,
      graceDays: values.rotationGraceDays,
      generation: values.rotationGeneration,
      ...(notBefore === undefined ? {} : { notBefore }),
      allowedIps: values.tokenAllowedIps,
      deniedIps: values.tokenDeniedIps,
      extraPermissions: values.extraPermissions.map((name) => permissionByName(name)!.name),
    },
    codeDeployedBy: values.codeDeployedBy,
    routesDeployedBy: values.routesDeployedBy,
    github: {
      owner,
      repository,
      ...(environment === undefined ? {} : { environment }),
      reviewers: { users: [...values.githubReviewerUsers], teams: [...values.githubReviewerTeams] },
      protectedBranchesOnly: values.githubProtectedBranchesOnly,
    },
  };
}
