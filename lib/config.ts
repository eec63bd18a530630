/**
 * The stack configuration schema. Pure: it takes a Pulumi-style config map (full keys such as
 * `scoped-edge:accountId`, values as the CLI hands them to the program: strings, with structured
 * values as JSON) and returns a typed StackConfig, or throws one ConfigError that lists every
 * problem with its key, what is wrong and the command that fixes it. Secret values are checked for
 * presence and secrecy only; they are never read into StackConfig nor quoted in a message.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

import { closestNames, PERMISSION_GROUPS, permissionByName } from "../policies/lib/permission-catalog";
import { DAY_MS, MAX_TTL_DAYS, rotationWindow, toRfc3339 } from "../policies/lib/rotation";
import { readConfig as readWorkerVars } from "../worker/src/config";
import {
  COMPATIBILITY_DATE,
  RATE_LIMIT_DEFAULTS,
  WORKER_BINDINGS,
  WORKER_VAR_NAMES,
} from "../worker/src/defaults";
import { currentTime } from "./clock";
import { coveredBy, everything, parseCidr } from "./ip-ranges";
import { looksSecret, quoteValue, SECRET_LOOKING } from "./quote-value";
import {
  mostSpecificZone,
  normaliseHost,
  parseRoutePattern,
  routeIdentity,
  zoneLookup,
} from "./route-pattern";
import { escapeControl, hasControl } from "./text";

export const PROJECT = "scoped-edge";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export { MAX_TTL_DAYS };

/** The R2 binding's name (the Worker reads WORKER_BINDINGS.assets when it declares one). */
export const R2_BINDING_NAME: string = (WORKER_BINDINGS as { assets?: string }).assets ?? "ASSETS_BUCKET";

/** Binding names the stack manages (worker/src/defaults.ts, the R2 binding); plain vars must not shadow them. */
export const RESERVED_BINDING_NAMES: readonly string[] = [...Object.values(WORKER_BINDINGS), R2_BINDING_NAME];

export interface ZoneConfig {
  readonly name: string;
  readonly id: string;
  /** Route patterns, host in lower case (lib/route-pattern.ts). */
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

export { quoteValue, SECRET_LOOKING };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(
    readonly stackName: string,
    problems: readonly ConfigProblem[],
  ) {
    // Keys and values come from the stack file: no control character reaches a terminal or log.
    const clean = problems.map((p) => ({
      key: escapeControl(p.key),
      problem: escapeControl(p.problem),
      fix: escapeControl(p.fix),
    }));
    super(
      `Invalid configuration for stack "${escapeControl(stackName)}" (nothing was deployed):\n` +
        clean.map((p) => `  - ${p.key}: ${p.problem}\n    fix: ${p.fix}`).join("\n"),
    );
    this.problems = clean;
  }
}

export interface ConfigContext {
  readonly stack: string;
  /** Full keys whose values are Pulumi secrets (`pulumi config set --secret`). */
  readonly secretKeys: ReadonlySet<string>;
  /** The instant the token's expiry is computed at (tokenNotBefore must precede it); default lib/clock. */
  readonly now?: Date;
}

// ---- value schemas ---------------------------------------------------------------------------

const HEX32 = /^[0-9a-f]{32}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;
/** Every day count is bounded: ten years is beyond any sane token lifetime. */
export const MAX_DAYS = 3650;

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

/**
 * An RFC 3339 timestamp naming a real instant: a day that exists, hours 00-23, minutes and seconds
 * 00-59, an offset within ±23:59. Date.parse would accept 25:61:61 by rolling it over.
 */
export function parseInstant(value: string): Date | undefined {
  const match = RFC3339.exec(value);
  if (!match || !isCalendarDate(value)) return undefined;
  const [hour, minute, second] = [match[4], match[5], match[6]].map(Number) as [number, number, number];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  if (match[9] !== undefined && (Number(match[9]) > 23 || Number(match[10]) > 59)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
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
const integer = (min: number, max: number) =>
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

/** A hostname, normalised to lower case; an IDN host is refused with its punycode. */
const hostname = (example: string) =>
  z.string({ error: `must be a hostname such as ${example}` }).transform((value, ctx) => {
    const host = normaliseHost(value, example);
    if (host.ok) return host.host;
    ctx.addIssue({ code: "custom", message: `${quoteValue(value)} ${host.problem}` });
    return z.NEVER;
  });

const cidrList = json(
  z.array(
    z.string({ error: "must be a string such as 203.0.113.0/24" }).superRefine((value, ctx) => {
      const parsed = parseCidr(value);
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: `${quoteValue(value)} ${parsed.problem}` });
    }),
    { error: "must be a list of CIDRs such as [203.0.113.0/24]" },
  ),
);

/** The fields of one zone; anything else is a typo that would silently drop a route. */
const zoneSchema = z.strictObject({
  name: hostname("example.com"),
  id: zoneId,
  routes: z
    .array(z.string({ error: "must be a route pattern such as api.example.com/*" }), {
      error: "must be a list of route patterns such as [api.example.com/*]",
    })
    .default([]),
  customHostnames: z
    .array(hostname("app.customer.com"), { error: "must be a list of hostnames such as [app.customer.com]" })
    .default([]),
});
const ZONE_FIELDS = ["name", "id", "routes", "customHostnames"];

/** Project keys, their schema, and the default Pulumi.yaml declares (undefined: required). */
const PROJECT_KEYS = {
  environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(", ")}` }),
  accountId,
  zones: json(
    z
      .array(zoneSchema, { error: "must be a list of zones" })
      .min(1, { error: "must list at least one zone" }),
  ),
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
      { error: "must be a map of NAME to string value" },
    ),
  ),
  r2Bucket: z.string().regex(/^(|[a-z0-9][a-z0-9-]{1,61}[a-z0-9])$/, {
    error: "must be 3-63 lowercase letters, digits or '-' (or empty for no bucket)",
  }),
  tokenOwner: z.enum(["account", "user"], { error: "must be account or user" }),
  tokenTtlDays: integer(1, MAX_DAYS),
  rotationDays: integer(1, MAX_DAYS),
  rotationGraceDays: integer(0, MAX_DAYS),
  rotationGeneration: integer(0, 1_000_000),
  tokenNotBefore: z
    .string()
    .regex(new RegExp(`^$|${RFC3339.source}`), {
      error: "must be an RFC 3339 UTC time such as 2026-12-01T00:00:00Z (or empty)",
    })
    // Only when the form is right: one problem per value.
    .refine((value) => !RFC3339.test(value) || parseInstant(value) !== undefined, {
      error: "is not a real instant (day, hour 00-23, minute and second 00-59 must exist)",
    }),
  tokenAllowedIps: cidrList,
  tokenDeniedIps: cidrList,
  extraPermissions: json(
    z.array(z.string({ error: "must be a permission name such as Workers Tail Read" }), {
      error: "must be a list of Cloudflare permission names",
    }),
  ),
  githubRepository: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/, {
    error: "must be owner/name, e.g. acme/edge-app",
  }),
  githubEnvironment: z
    .string()
    .regex(/^[^/\\'"`]{0,255}$/, { error: "is not a valid GitHub environment name" })
    .refine((value) => !hasControl(value), { error: "must not contain control characters" }),
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

/**
 * The config keys each provider reads (@pulumi/cloudflare 6.22.1 and @pulumi/github 6.15.0,
 * config/vars.d.ts; a test compares these lists with the installed packages). Any other key in
 * their namespaces is a typo the provider would ignore.
 */
export const PROVIDER_CONFIG_KEYS: Readonly<Record<"cloudflare" | "github", readonly string[]>> = {
  cloudflare: ["apiKey", "apiToken", "apiUserServiceKey", "baseUrl", "email", "userAgentOperatorSuffix"],
  github: [
    "appAuth",
    "baseUrl",
    "cachePath",
    "insecure",
    "legacyClient",
    "maxPerPage",
    "maxRetries",
    "organization",
    "owner",
    "parallelRequests",
    "readDelayMs",
    "retryDelayMs",
    "retryableErrors",
    "token",
    "writeDelayMs",
  ],
};
/** Namespaces a stack may set keys in: ours, the providers', and the engine's own `pulumi:`. */
export const CONFIG_NAMESPACES = [PROJECT, "cloudflare", "github", "pulumi"] as const;

/** Provider keys that would put a Global API Key in play: refused outright, in any spelling. */
const GLOBAL_KEY_KEYS = ["apiKey", "email", "apiUserServiceKey"];
/** Provider credentials that must be secrets when set. */
const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken", "github:token"];

const STRUCTURED_KEYS = new Set<ProjectKey>([
  "zones",
  "workerVars",
  "tokenAllowedIps",
  "tokenDeniedIps",
  "extraPermissions",
  "githubReviewerUsers",
  "githubReviewerTeams",
]);

/** A key compared loosely: case, '-' and '_' ignored (apikey, api_key, API-KEY are apiKey). */
const loose = (key: string) => key.toLowerCase().replace(/[-_]/g, "");

function setCommand(stack: string, key: string, value: string, secret = false): string {
  const full = key.includes(":") ? key : `${PROJECT}:${key}`;
  return `pulumi config set ${secret ? "--secret " : ""}${full} ${value} --stack ${stack}`;
}

function renderPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("");
}

function fixFor(stack: string, key: ProjectKey, path: readonly PropertyKey[]): string {
  if (STRUCTURED_KEYS.has(key) && path.length > 0) {
    return `pulumi config set --path '${PROJECT}:${key}${renderPath(path)}' <value> --stack ${stack} (or edit Pulumi.${stack}.yaml)`;
  }
  const examples: Partial<Record<ProjectKey, string>> = {
    environment: "dev",
    accountId: "<32-hex account id from the dashboard's Overview page>",
    workerName: "edge-chat",
    compatibilityDate: COMPATIBILITY_DATE,
    tokenTtlDays: "45",
    githubRepository: "acme/edge-app",
    tokenOwner: "account",
    codeDeployedBy: "ci",
    routesDeployedBy: "pulumi",
    rateLimitRequests: String(RATE_LIMIT_DEFAULTS.limit),
    rateLimitPeriodSeconds: String(RATE_LIMIT_DEFAULTS.periodSeconds),
    githubProtectedBranchesOnly: "true",
    tokenNotBefore: '2026-12-01T00:00:00Z (or "" for none)',
  };
  if (STRUCTURED_KEYS.has(key)) return `edit ${PROJECT}:${key} in Pulumi.${stack}.yaml`;
  return setCommand(stack, key, examples[key] ?? "<value>");
}

/** "did you mean X?" with the closest of `known`. */
function didYouMean(name: string, known: readonly string[]): string {
  return `did you mean ${closestNames(name, known, 1)[0]}?`;
}

/** Keys in namespaces nobody reads, and provider keys the provider does not know. */
function unknownKeyProblems(config: Readonly<Record<string, unknown>>, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ours = [...Object.keys(PROJECT_KEYS), ...SECRET_KEYS];
  const rm = (fullKey: string) =>
    `pulumi config rm '${fullKey}' --stack ${stack} (or delete it from Pulumi.${stack}.yaml)`;
  for (const fullKey of Object.keys(config)) {
    const colon = fullKey.indexOf(":");
    const namespace = colon === -1 ? "" : fullKey.slice(0, colon);
    const bare = fullKey.slice(colon + 1);
    if (namespace === "pulumi") continue;
    if (namespace === PROJECT) {
      if (!ours.includes(bare)) {
        problems.push({
          key: fullKey,
          problem: `is not a scoped-edge setting (${didYouMean(
            bare,
            ours.map((k) => `${PROJECT}:${k}`),
          )})`,
          fix: rm(fullKey),
        });
      }
      continue;
    }
    if (namespace === "cloudflare" || namespace === "github") {
      const known = PROVIDER_CONFIG_KEYS[namespace];
      if (known.includes(bare)) continue;
      const sameKey = known.find((candidate) => loose(candidate) === loose(bare));
      if (namespace === "cloudflare" && sameKey !== undefined && GLOBAL_KEY_KEYS.includes(sameKey)) continue;
      problems.push({
        key: fullKey,
        problem:
          sameKey === undefined
            ? `is not a ${namespace} provider setting (${didYouMean(
                bare,
                known.map((k) => `${namespace}:${k}`),
              )})`
            : `is not read by the ${namespace} provider, which reads ${namespace}:${sameKey} (keys are case-sensitive)`,
        fix:
          sameKey === undefined
            ? rm(fullKey)
            : `pulumi config rm '${fullKey}' --stack ${stack}; then ${setCommand(stack, `${namespace}:${sameKey}`, "<value>", PROVIDER_SECRET_KEYS.includes(`${namespace}:${sameKey}`))}`,
      });
      continue;
    }
    problems.push({
      key: fullKey,
      problem:
        colon === -1
          ? "has no namespace; scoped-edge settings are scoped-edge:<key>"
          : `is in namespace "${namespace}", which nothing in this stack reads (${didYouMean(
              namespace,
              CONFIG_NAMESPACES,
            ).replace("?", `:${bare}?`)})`,
      fix: rm(fullKey),
    });
  }
  return problems;
}

/** Zod issues as problems; an unknown zone field becomes one problem per field, with did-you-mean. */
function issueProblems(fullKey: string, key: ProjectKey, issues: readonly z.core.$ZodIssue[], stack: string) {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const field of issue.keys) {
        const path = [...issue.path, field];
        problems.push({
          key: `${fullKey}${renderPath(path)}`,
          problem: `is not a field of a zone (${didYouMean(field, ZONE_FIELDS)}); a zone has ${ZONE_FIELDS.join(", ")}`,
          fix: `rename or remove it in Pulumi.${stack}.yaml`,
        });
      }
      continue;
    }
    problems.push({
      key: `${fullKey}${renderPath(issue.path)}`,
      problem: issue.message,
      fix: fixFor(stack, key, issue.path),
    });
  }
  return problems;
}

/** Validates the whole config map; throws ConfigError listing every problem. */
export function parseStackConfig(
  config: Readonly<Record<string, unknown>>,
  context: ConfigContext,
): StackConfig {
  const { stack, secretKeys } = context;
  const problems: ConfigProblem[] = [];
  const values: Parsed = {};

  // Typos anywhere would otherwise be silently ignored.
  problems.push(...unknownKeyProblems(config, stack));

  for (const key of Object.keys(PROJECT_KEYS) as ProjectKey[]) {
    const fullKey = `${PROJECT}:${key}`;
    const raw = config[fullKey];
    if (raw === undefined) {
      problems.push({ key: fullKey, problem: "is required but not set", fix: fixFor(stack, key, []) });
      continue;
    }
    const result = PROJECT_KEYS[key].safeParse(raw);
    if (!result.success) {
      problems.push(...issueProblems(fullKey, key, result.error.issues, stack));
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
  for (const fullKey of Object.keys(config)) {
    if (!fullKey.startsWith("cloudflare:")) continue;
    const bare = fullKey.slice("cloudflare:".length);
    if (GLOBAL_KEY_KEYS.some((key) => loose(key) === loose(bare))) {
      problems.push({
        key: fullKey,
        problem: "configures a Global API Key, which can do anything the user can; scoped-edge refuses it",
        fix: `pulumi config rm '${fullKey}' --stack ${stack}; then pulumi config set --secret cloudflare:apiToken <token with "Account API Tokens Write"> --stack ${stack}`,
      });
    }
  }

  problems.push(...crossFieldProblems(values, stack, () => context.now ?? currentTime()));
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return assemble(values as Required<Parsed>, stack);
}

type Parsed = { [K in ProjectKey]?: z.output<(typeof PROJECT_KEYS)[K]> };

/** Rules that involve more than one value. */
function crossFieldProblems(values: Parsed, stack: string, now: () => Date): ConfigProblem[] {
  return [
    ...zoneProblems(values, stack),
    ...lifetimeProblems(values, stack),
    ...notBeforeProblems(values, stack, now),
    ...ipListProblems(values, stack),
    ...deploymentModelProblems(values, stack),
    ...extraPermissionProblems(values, stack),
    ...workerVarProblems(values, stack),
  ];
}

const key = (name: string) => `${PROJECT}:${name}`;

/**
 * Zones: unique names and ids; routes in Cloudflare's grammar, in the most specific declared zone
 * that contains them, unique (host compared case-insensitively, path exactly, as Cloudflare does);
 * custom hostnames unique.
 */
function zoneProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!values.zones) return problems;
  const zones = values.zones;
  const names = zones.map((zone) => zone.name);
  const homeZone = zoneLookup(names);
  const seenRoutes = new Map<string, string>();
  const seenZoneIds = new Map<string, string>();
  const seenZoneNames = new Map<string, string>();
  const seenHostnames = new Map<string, string>();
  const merge = `merge the two entries in Pulumi.${stack}.yaml`;
  zones.forEach((zone, zoneIndex) => {
    const at = (field: string) => `${key("zones")}[${zoneIndex}].${field}`;
    const pathFix = (field: string) =>
      `pulumi config set --path '${PROJECT}:zones[${zoneIndex}].${field}' <value> --stack ${stack} (or edit Pulumi.${stack}.yaml)`;
    const listedOnce = (seen: Map<string, string>, value: string, field: string) => {
      const earlier = seen.get(value);
      if (earlier === undefined) seen.set(value, at(field));
      else
        problems.push({
          key: at(field),
          problem: `zone ${value} is listed twice (already at ${earlier})`,
          fix: merge,
        });
    };
    listedOnce(seenZoneIds, zone.id, "id");
    listedOnce(seenZoneNames, zone.name, "name");

    zone.routes.forEach((pattern, routeIndex) => {
      const routeKey = `${at("routes")}[${routeIndex}]`;
      const parsed = parseRoutePattern(pattern, zone.name);
      if (!parsed.ok) {
        problems.push({ key: routeKey, problem: parsed.problem, fix: pathFix(`routes[${routeIndex}]`) });
        return;
      }
      const route = parsed.route;
      const home = homeZone(route.host);
      if (home === undefined) {
        problems.push({
          key: routeKey,
          problem: `route host "${route.host}" is not in zone ${zone.name} (nor in any zone of this stack)`,
          fix: `${pathFix(`routes[${routeIndex}]`)}; a route on another domain needs that zone listed in ${key("zones")}`,
        });
        return;
      }
      if (home !== zone.name) {
        const homeIndex = names.indexOf(home);
        problems.push({
          key: routeKey,
          problem: `route host "${route.host}" belongs to zone ${home} (${key("zones")}[${homeIndex}]), the most specific zone that contains it, not ${zone.name}`,
          fix: `move the route to ${key("zones")}[${homeIndex}].routes in Pulumi.${stack}.yaml`,
        });
        return;
      }
      const identity = routeIdentity(route);
      const previous = seenRoutes.get(identity);
      if (previous) {
        problems.push({
          key: routeKey,
          problem: `duplicate route "${route.pattern}" (already at ${previous}; Cloudflare compares hosts case-insensitively)`,
          fix: `remove one of them from Pulumi.${stack}.yaml`,
        });
      } else {
        seenRoutes.set(identity, routeKey);
      }
    });
    zone.customHostnames.forEach((hostname, index) => {
      const hostKey = `${at("customHostnames")}[${index}]`;
      const previous = seenHostnames.get(hostname);
      if (previous !== undefined) {
        problems.push({
          key: hostKey,
          problem: `duplicate custom hostname "${hostname}" (already at ${previous})`,
          fix: `remove one of them from Pulumi.${stack}.yaml`,
        });
      } else seenHostnames.set(hostname, hostKey);
    });
  });
  return problems;
}

/** The three lifetime keys. */
export interface Lifetime {
  readonly tokenTtlDays: number;
  readonly rotationDays: number;
  readonly rotationGraceDays: number;
}

/** Why a lifetime cannot hold in an environment whose tokens live at most `maxTtlDays`, or undefined. */
export function lifetimeProblem(
  lifetime: Lifetime,
  maxTtlDays: number,
  environment = "environment's",
): string | undefined {
  const { tokenTtlDays: ttl, rotationDays: rotation, rotationGraceDays: grace } = lifetime;
  const reasons: string[] = [];
  if (ttl > maxTtlDays)
    reasons.push(`tokenTtlDays ${ttl} exceeds the ${environment} maximum of ${maxTtlDays} days`);
  if (ttl <= rotation + grace) {
    reasons.push(
      `tokenTtlDays ${ttl} must exceed rotationDays ${rotation} + rotationGraceDays ${grace} = ${rotation + grace}, or a token expires before CI has replaced it`,
    );
  }
  return reasons.length === 0 ? undefined : reasons.join("; and ");
}

/**
 * One combination of the three keys that satisfies every lifetime rule at once, changing as little
 * as possible: cap the TTL at the maximum; else raise it just above rotation + grace; else shorten
 * the rotation period (keeping the grace period when it fits); else shorten both.
 */
export function proposeLifetime(lifetime: Lifetime, maxTtlDays: number): Lifetime {
  const { rotationDays: rotation, rotationGraceDays: grace } = lifetime;
  const ttl = Math.min(lifetime.tokenTtlDays, maxTtlDays);
  if (ttl > rotation + grace) return { ...lifetime, tokenTtlDays: ttl };
  if (rotation + grace + 1 <= maxTtlDays) return { ...lifetime, tokenTtlDays: rotation + grace + 1 };
  // The maximum itself is too short for this rotation: use it, and fit rotation and grace under it.
  if (maxTtlDays - grace - 1 >= 1) {
    return { tokenTtlDays: maxTtlDays, rotationDays: maxTtlDays - grace - 1, rotationGraceDays: grace };
  }
  const newGrace = Math.floor((maxTtlDays - 1) / 4);
  return { tokenTtlDays: maxTtlDays, rotationDays: maxTtlDays - newGrace - 1, rotationGraceDays: newGrace };
}

function lifetimeProblems(values: Parsed, stack: string): ConfigProblem[] {
  const { environment, tokenTtlDays, rotationDays, rotationGraceDays } = values;
  if (
    environment === undefined ||
    tokenTtlDays === undefined ||
    rotationDays === undefined ||
    rotationGraceDays === undefined
  ) {
    return [];
  }
  const max = MAX_TTL_DAYS[environment];
  const lifetime = { tokenTtlDays, rotationDays, rotationGraceDays };
  const problem = lifetimeProblem(lifetime, max, environment);
  if (problem === undefined) return [];
  const proposal = proposeLifetime(lifetime, max);
  const changes = (Object.keys(proposal) as (keyof Lifetime)[])
    .filter((name) => proposal[name] !== lifetime[name])
    .map((name) => setCommand(stack, name, String(proposal[name])));
  return [
    {
      key: key("tokenTtlDays"),
      problem,
      fix:
        `${changes.join(" && ")} (then tokenTtlDays ${proposal.tokenTtlDays} <= ${max} and > rotationDays ${proposal.rotationDays} + rotationGraceDays ${proposal.rotationGraceDays})` +
        (proposal.rotationDays !== rotationDays || proposal.rotationGraceDays !== rotationGraceDays
          ? `; set rotationDays ${proposal.rotationDays} and graceDays ${proposal.rotationGraceDays} of cloudflare-token-require-rotation-headroom in policies/config/${environment}.json to match`
          : ""),
    },
  ];
}

/** tokenNotBefore must precede the expiry of the token the program mints now. */
function notBeforeProblems(values: Parsed, stack: string, clock: () => Date): ConfigProblem[] {
  const { tokenNotBefore, tokenTtlDays, rotationDays, rotationGraceDays } = values;
  if (!tokenNotBefore || tokenTtlDays === undefined || rotationDays === undefined) return [];
  const notBefore = parseInstant(tokenNotBefore);
  if (notBefore === undefined) return [];
  const now = clock();
  const window = rotationWindow(now, {
    rotationDays,
    ttlDays: tokenTtlDays,
    graceDays: rotationGraceDays ?? 0,
  });
  if (notBefore.getTime() < window.expiresOn.getTime()) return [];
  return [
    {
      key: key("tokenNotBefore"),
      problem: `${tokenNotBefore} is not before the token's expiry ${toRfc3339(window.expiresOn)}: the token would never be valid`,
      fix: `${setCommand(stack, "tokenNotBefore", toRfc3339(new Date(now.getTime() - (now.getTime() % DAY_MS))))} (any instant before ${toRfc3339(window.expiresOn)}), or ${setCommand(stack, "tokenNotBefore", '""')} for none`,
    },
  ];
}

/**
 * The request-IP condition must restrict something and leave something: an allow list holding the
 * whole address space is no restriction; allow entries wholly inside the deny list admit nobody; a
 * deny list covering every address makes the token unusable.
 */
function ipListProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (values.tokenAllowedIps === undefined || values.tokenDeniedIps === undefined) return problems;
  const parse = (list: readonly string[]) =>
    list.map((text) => parseCidr(text)).flatMap((parsed) => (parsed.ok ? [parsed.cidr] : []));
  const allowed = parse(values.tokenAllowedIps);
  const denied = parse(values.tokenDeniedIps);
  const edit = (name: string) => `edit ${key(name)} in Pulumi.${stack}.yaml`;
  allowed.forEach((cidr, index) => {
    const at = `${key("tokenAllowedIps")}[${index}]`;
    if (cidr.prefix === 0) {
      problems.push({
        key: at,
        problem: `"${cidr.text}" admits every ${cidr.family === 4 ? "IPv4" : "IPv6"} address, so the allow list restricts nothing`,
        fix: `${edit("tokenAllowedIps")}: list the CIDRs your CI egresses from (e.g. 203.0.113.0/24), or leave the list empty for no restriction`,
      });
    } else if (coveredBy(cidr, denied)) {
      problems.push({
        key: at,
        problem: `"${cidr.text}" lies wholly inside ${key("tokenDeniedIps")}, so it admits no address`,
        fix: `${edit("tokenAllowedIps")} or ${key("tokenDeniedIps")} so the allowed range is not denied`,
      });
    }
  });
  if (
    allowed.length === 0 &&
    denied.length > 0 &&
    coveredBy(everything(4), denied) &&
    coveredBy(everything(6), denied)
  ) {
    problems.push({
      key: key("tokenDeniedIps"),
      problem: "denies every IPv4 and IPv6 address, so the token could be used from nowhere",
      fix: `${edit("tokenDeniedIps")}: deny only the ranges that must never use the token`,
    });
  }
  return problems;
}

/**
 * Keys that only shape the deploy token or the GitHub environment it is written to: with
 * codeDeployedBy pulumi neither exists, so a value other than the inert one would be ignored. Each is
 * refused instead. githubRepository and githubEnvironment stay accepted: Pulumi.yaml requires
 * githubRepository in every mode, and both keep the stack ready to switch back to ci. The lifetime
 * keys (tokenTtlDays, rotationDays, rotationGraceDays) always carry a value (Pulumi.yaml's default
 * is applied before the program reads config), so they are checked but cannot be told apart.
 */
const TOKEN_ONLY_KEYS: Readonly<Partial<Record<ProjectKey, (value: unknown) => boolean>>> = {
  tokenOwner: (value) => value === "account",
  tokenNotBefore: (value) => value === "" || value === undefined,
  tokenAllowedIps: (value) => Array.isArray(value) && value.length === 0,
  tokenDeniedIps: (value) => Array.isArray(value) && value.length === 0,
  extraPermissions: (value) => Array.isArray(value) && value.length === 0,
  rotationGeneration: (value) => value === 0,
  githubReviewerUsers: (value) => Array.isArray(value) && value.length === 0,
  githubReviewerTeams: (value) => Array.isArray(value) && value.length === 0,
  githubProtectedBranchesOnly: (value) => value === true,
};

function unusedWithoutDeployToken(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, inert] of Object.entries(TOKEN_ONLY_KEYS)) {
    const value = (values as Record<string, unknown>)[name];
    if (value === undefined || inert(value)) continue;
    problems.push({
      key: key(name),
      problem:
        "is set, but codeDeployedBy is pulumi: there is no deploy token and no GitHub environment for it to shape, so it would be ignored",
      fix: `remove ${key(name)} from Pulumi.${stack}.yaml (pulumi config rm ${key(name)} --stack ${stack}), or set ${key("codeDeployedBy")} to ci`,
    });
  }
  return problems;
}

/** GitHub allows at most six required reviewers per environment (REST: "up to 6 users or teams"). */
export const MAX_GITHUB_REVIEWERS = 6;

/** Who deploys what, and the GitHub environment settings that only make sense with an environment. */
function deploymentModelProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (values.codeDeployedBy === "pulumi" && values.routesDeployedBy === "ci") {
    problems.push({
      key: key("routesDeployedBy"),
      problem:
        "is ci, but codeDeployedBy is pulumi: with Pulumi deploying the code there is no deploy token and no CI deploy to carry routes",
      fix: `${setCommand(stack, "routesDeployedBy", "pulumi")} (or set ${key("codeDeployedBy")} to ci)`,
    });
  }
  if (values.codeDeployedBy === "pulumi") problems.push(...unusedWithoutDeployToken(values, stack));
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

function extraPermissionProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [index, name] of (values.extraPermissions ?? []).entries()) {
    const group = permissionByName(name);
    const at = `${key("extraPermissions")}[${index}]`;
    if (!group) {
      problems.push({
        key: at,
        problem: `unknown permission ${quoteValue(name)}; closest known: ${closestNames(
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
  return problems;
}

/**
 * Worker vars: only names the Worker reads (worker/src/defaults.ts), never a binding's name, and
 * values the Worker itself accepts (worker/src/config.ts readConfig, the Worker's own check, run on
 * each var alone so every bad var is reported). Values never appear raw: a secret-looking one is
 * masked, control characters escaped.
 */
function workerVarProblems(values: Parsed, stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const vars = values.workerVars ?? {};
  const known = WORKER_VAR_NAMES as readonly string[];
  for (const [name, value] of Object.entries(vars)) {
    const at = `${key("workerVars")}.${name}`;
    if (RESERVED_BINDING_NAMES.includes(name)) {
      problems.push({
        key: at,
        problem: `"${name}" is a binding the stack manages; a plain var must not shadow it`,
        fix:
          name === WORKER_BINDINGS.providerKey
            ? setCommand(stack, "providerKey", "<value>", true)
            : `rename the var in Pulumi.${stack}.yaml`,
      });
      continue;
    }
    if (!known.includes(name)) {
      problems.push({
        key: at,
        problem: `is not a var the Worker reads (${didYouMean(name, known)}); the Worker reads ${known.join(", ")}`,
        fix: `rename or remove it in Pulumi.${stack}.yaml`,
      });
      continue;
    }
    if (looksSecret(value)) {
      problems.push({
        key: at,
        problem: `holds ${SECRET_LOOKING}; vars are deployed as plain text, readable by anyone with dashboard access`,
        fix: `remove it from Pulumi.${stack}.yaml; the provider key belongs in ${setCommand(stack, "providerKey", "<value>", true)}`,
      });
      continue;
    }
    const result = readWorkerVars({ [name]: value } as Parameters<typeof readWorkerVars>[0]);
    if (!result.ok) {
      problems.push({
        key: at,
        problem: `the Worker refuses it at run time (every request would fail): ${result.problem}`,
        fix: `pulumi config set --path '${key("workerVars")}.${name}' <value> --stack ${stack} (or edit Pulumi.${stack}.yaml)`,
      });
    }
  }
  return problems;
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
    codeDeployedBy: values.codeDeployedBy,
    routesDeployedBy: values.routesDeployedBy,
    accountId: values.accountId,
    zones: values.zones.map((zone) => ({
      name: zone.name,
      id: zone.id,
      // Hosts in lower case, paths as written (parse succeeded for every route above).
      routes: zone.routes.map((pattern) => {
        const parsed = parseRoutePattern(pattern, zone.name);
        return parsed.ok ? parsed.route.pattern : pattern;
      }),
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
    github: {
      owner,
      repository,
      ...(environment === undefined ? {} : { environment }),
      reviewers: { users: [...values.githubReviewerUsers], teams: [...values.githubReviewerTeams] },
      protectedBranchesOnly: values.githubProtectedBranchesOnly,
    },
  };
}

/** Kept for callers that check one pattern: the problem, or undefined when it is fine in `zoneName`. */
export function routePatternProblem(pattern: string, zoneName: string): string | undefined {
  const parsed = parseRoutePattern(pattern, zoneName);
  if (!parsed.ok) return parsed.problem;
  if (mostSpecificZone(parsed.route.host, [zoneName]) === undefined) {
    return `route host "${parsed.route.host}" is not in zone ${zoneName}`;
  }
  return undefined;
}
