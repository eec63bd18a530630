/**
 * Policy configuration helpers. The Pulumi CLI validates `--policy-pack-config` against each
 * policy's `configSchema` and fills in its defaults before it calls Configure; a policy called in
 * process (tests, the offline plan) may get `{}` or a partial object, so every policy merges its
 * own defaults under whatever `getConfig()` returns.
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

import { closestNames, PERMISSION_GROUPS, permissionById, permissionByName } from "./permission-catalog";

/** The part of the SDK's validation args a policy needs to read its config. */
export interface ConfigSource {
  getConfig<T extends object>(): T;
}

/** A policy config value the pack refuses (a bound crossed, an unknown permission, a key it does not read). */
export class PolicyConfigError extends Error {
  override readonly name = "PolicyConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid policy config: ${problems.join("; ")}`);
  }
}

/** Every day count is bounded: ten years is beyond any sane token lifetime (and 1e300 is not a number of days). */
export const MAX_POLICY_DAYS = 3650;

/**
 * Bounds of every numeric property in the pack, by property name. `minHexSecretLength` may not
 * exceed 37, the length of the Global API Key it exists to catch: a larger value switches detection
 * off; below 16 every short hex id would count as a secret.
 */
export const NUMBER_BOUNDS: Readonly<Record<string, readonly [min: number, max: number]>> = {
  maxTtlDays: [1, MAX_POLICY_DAYS],
  rotationDays: [1, MAX_POLICY_DAYS],
  graceDays: [0, MAX_POLICY_DAYS],
  minHexSecretLength: [16, 37],
};

/** List properties that name permission groups: each entry must be a catalog name or a 32-hex id. */
export const PERMISSION_LIST_PROPERTIES: readonly string[] = [
  "allowedPermissions",
  "deniedPermissions",
  "allowedExtraPermissions",
];

/**
 * The JSON Schema of one permission entry: a catalog name (or its dashboard "Edit" spelling) or a
 * 32-hex id. The CLI validates `--policy-pack-config` against it before the pack runs, so a misspelt
 * name fails there too; policyConfigProblems adds the did-you-mean.
 */
export const PERMISSION_ENTRY_SCHEMA: PolicyConfigJSONSchema = {
  type: "string",
  pattern: `^([0-9a-f]{32}|${PERMISSION_GROUPS.flatMap((group) =>
    group.name.endsWith(" Write") ? [group.name, group.name.replace(/ Write$/, " Edit")] : [group.name],
  )
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("|")})$`,
};

const PERMISSION_ENTRY = new RegExp(PERMISSION_ENTRY_SCHEMA.pattern!);

/** Sane sizes for lists and their strings. */
export const MAX_LIST_ENTRIES = 200;
export const MAX_STRING_LENGTH = 200;

/** A config value for a message: strings quoted and cut short (JSON.stringify escapes control characters). */
const describe = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value.slice(0, MAX_STRING_LENGTH)) : String(value);

/**
 * What is wrong with one policy's config properties, given its defaults (whose keys are the only
 * properties it reads). Pure; shared by every policy (through readPolicyConfig) and by the offline
 * plan, which refuses a bad config before anything runs.
 */
export function policyConfigProblems(
  properties: Readonly<Record<string, unknown>>,
  defaults: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  const known = Object.keys(defaults);
  for (const [key, value] of Object.entries(properties)) {
    if (key === "enforcementLevel" || value === undefined || value === null) continue;
    if (!known.includes(key)) {
      problems.push(
        key === "now"
          ? `"now" is not policy config: the pack judges time by the real clock (the offline plan pins it with its --now)`
          : `${describe(key)} is not a property of this policy${known.length > 0 ? ` (did you mean ${closestNames(key, known, 1)[0]}?)` : ""}`,
      );
      continue;
    }
    const bounds = NUMBER_BOUNDS[key];
    if (bounds !== undefined) {
      const [min, max] = bounds;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push(`${key} is ${describe(value)}; it must be a whole number from ${min} to ${max}`);
      }
      continue;
    }
    const defaultValue = defaults[key];
    if (Array.isArray(defaultValue)) {
      if (!Array.isArray(value) || value.some((entry) => typeof entry !== "string")) {
        problems.push(`${key} must be a list of strings`);
        continue;
      }
      const entries = value as string[];
      if (entries.length > MAX_LIST_ENTRIES)
        problems.push(`${key} has ${entries.length} entries; at most ${MAX_LIST_ENTRIES}`);
      entries.forEach((entry, index) => {
        if (entry.length > MAX_STRING_LENGTH || entry.trim() === "" || entry.includes("*")) {
          problems.push(
            `${key}[${index}] ${describe(entry)} must be a plain name (no wildcard), 1-${MAX_STRING_LENGTH} characters`,
          );
          return;
        }
        if (PERMISSION_LIST_PROPERTIES.includes(key) && !PERMISSION_ENTRY.test(entry)) {
          problems.push(
            `${key}[${index}] ${describe(entry)} is not a permission group the pack knows (did you mean ` +
              `${
                closestNames(
                  entry,
                  PERMISSION_GROUPS.map((group) => group.name),
                  1,
                )[0]
              }?); write a catalog name or the group's 32-hex id`,
          );
        }
      });
      // The deny list may grow, never shrink: removing a default would switch the check off for it.
      if (key === "deniedPermissions") {
        const given = permissionIdSet(entries);
        const dropped = (defaultValue as string[]).filter((entry) => {
          const id = resolvePermissionRef(entry).id;
          return id !== undefined && !given.has(id);
        });
        if (dropped.length > 0) {
          problems.push(
            `deniedPermissions drops ${joinWords(dropped.map((entry) => resolvePermissionRef(entry).name))} from the default deny list; ` +
              "the list may add permissions, never remove the defaults",
          );
        }
      }
      continue;
    }
    if (typeof defaultValue === "boolean" && typeof value !== "boolean")
      problems.push(`${key} must be true or false`);
  }
  return problems;
}

/**
 * `defaults` overlaid with every key `getConfig()` sets (undefined and null keep the default), after
 * checking them with policyConfigProblems: throws PolicyConfigError for a config the pack refuses.
 */
export function readPolicyConfig<T extends object>(args: ConfigSource, defaults: T): T {
  const given = args.getConfig<Partial<T>>() ?? {};
  const problems = policyConfigProblems(
    given as Record<string, unknown>,
    defaults as Record<string, unknown>,
  );
  if (problems.length > 0) throw new PolicyConfigError(problems);
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && value !== null) merged[key] = value;
  }
  return merged as T;
}

const HEX32 = /^[0-9a-f]{32}$/;

/** A permission named in config: a catalog name ("Zone Write", dashboard "Edit" accepted) or an id. */
export interface PermissionRef {
  /** As written in the config. */
  readonly entry: string;
  /** The catalog's name, or the entry itself when the catalog does not know it. */
  readonly name: string;
  /** The permission-group id, when the entry is an id or a name the catalog knows. */
  readonly id?: string;
}

export function resolvePermissionRef(entry: string): PermissionRef {
  const trimmed = entry.trim();
  if (HEX32.test(trimmed)) {
    return { entry, name: permissionById(trimmed)?.name ?? trimmed, id: trimmed };
  }
  const group = permissionByName(trimmed);
  return group ? { entry, name: group.name, id: group.id } : { entry, name: trimmed };
}

/** The permission-group ids a list of config entries resolves to (unresolvable names are skipped). */
export function permissionIdSet(entries: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const entry of entries) {
    const ref = resolvePermissionRef(entry);
    if (ref.id) ids.add(ref.id);
  }
  return ids;
}

/** Formats a list for messages: "a", "a and b", "a, b and c". */
export function joinWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
