/**
 * Policy configuration helpers. The Pulumi CLI validates `--policy-pack-config` against each
 * policy's `configSchema` and fills in its defaults before it calls Configure; a policy called in
 * process (tests, the offline plan) may get `{}` or a partial object, so every policy merges its
 * own defaults under whatever `getConfig()` returns.
 */
import { permissionById, permissionByName } from "./permission-catalog";

/** The part of the SDK's validation args a policy needs to read its config. */
export interface ConfigSource {
  getConfig<T extends object>(): T;
}

/** `defaults` overlaid with every key `getConfig()` sets (undefined and null keep the default). */
export function readPolicyConfig<T extends object>(args: ConfigSource, defaults: T): T {
  const given = args.getConfig<Partial<T>>() ?? {};
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && value !== null) merged[key] = value;
  }
  return merged as T;
}

export type NowResult =
  { readonly ok: true; readonly now: Date } | { readonly ok: false; readonly error: string };

/** The `now` config value: empty for the real clock, else an ISO 8601 timestamp. */
export function resolveNow(now: string, clock: () => Date = () => new Date()): NowResult {
  if (now.trim() === "") return { ok: true, now: clock() };
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(now) ? Date.parse(now) : Number.NaN;
  if (Number.isNaN(ms)) {
    return {
      ok: false,
      error: `config "now" is "${now}", not an ISO 8601 timestamp such as "2026-11-22T00:00:00Z" (leave it empty for the real clock)`,
    };
  }
  return { ok: true, now: new Date(ms) };
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
