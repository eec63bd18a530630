/**
 * Workers route patterns and hostnames, checked against the grammar Cloudflare documents. Pure.
 *
 * Source: developers.cloudflare.com/workers/configuration/routing/routes/ ("Matching behavior" and
 * "Validity"): the only operator is `*`; a hostname may begin with `*` (host and subhosts) or `*.`
 * (subhosts only); a path may end with `*`; no infix wildcard and no query parameters; the path is
 * optional (an implied `/`); the path is case sensitive, the host is not (routes created since
 * 2023-10-15). A scheme is allowed by Cloudflare but refused here: without one a route matches both
 * http and https, which is what a stack wants, and a scheme only hides typos. Ports, fragments,
 * whitespace and control characters are not part of the grammar at all.
 *
 * Hosts are normalised to lower case. A non-ASCII (IDN) host is refused with its punycode shown
 * (node:url domainToASCII), rather than rewritten: the stack file then says exactly which host is
 * routed, and a look-alike letter cannot hide in it.
 */
import { domainToASCII } from "node:url";

import { escapeControl, hasControl } from "./text";

/** One DNS label: lower-case letters, digits and inner hyphens (punycode `xn--` labels included). */
const LABEL = "(?!-)[a-z0-9-]{1,63}(?<!-)";
/** A hostname of at least two labels, at most 253 characters. */
export const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})+$`);
/**
 * Path characters: RFC 3986 pchar (unreserved, sub-delims, ':' '@', percent-encoded octets) and
 * '/', with one optional trailing '*'. No '?', '#', '\', whitespace or control character.
 */
const PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()+,;=:@/]|%[0-9A-Fa-f]{2})*\*?$/;

export interface RoutePattern {
  /** The pattern as it will be deployed: host in lower case, path as written. */
  readonly pattern: string;
  /** The host without its leading `*` or `*.`, in lower case. */
  readonly host: string;
  readonly wildcard: "" | "*" | "*.";
  /** The path, "" when the pattern has none (Cloudflare implies "/"). */
  readonly path: string;
}

export type RouteParse =
  { readonly ok: true; readonly route: RoutePattern } | { readonly ok: false; readonly problem: string };

/** `value` quoted for a message, control characters escaped. */
export function quote(value: string): string {
  return `"${escapeControl(value)}"`;
}

/** Why `host` (no wildcard) is not a usable hostname, or the host in lower case. */
export function normaliseHost(
  host: string,
  example: string,
): { ok: true; host: string } | { ok: false; problem: string } {
  // Anything outside printable ASCII first: controls and whitespace are never part of a host.
  if (/\s/.test(host) || hasControl(host)) {
    return { ok: false, problem: `contains whitespace or a control character; write e.g. ${example}` };
  }
  if (/[^\x21-\x7e]/.test(host)) {
    const ascii = domainToASCII(host);
    return {
      ok: false,
      problem:
        ascii === ""
          ? "is not a valid internationalised hostname"
          : `is an internationalised (IDN) hostname; write its punycode form ${ascii}`,
    };
  }
  const lower = host.toLowerCase();
  if (!HOSTNAME.test(lower)) {
    return { ok: false, problem: `is not a hostname; write e.g. ${example}` };
  }
  return { ok: true, host: lower };
}

/** Parses one route pattern (Cloudflare's grammar above); `zoneName` only shapes the examples. */
export function parseRoutePattern(raw: string, zoneName: string): RouteParse {
  const example = `api.${zoneName}/*`;
  const shown = quote(raw);
  const fail = (problem: string): RouteParse => ({ ok: false, problem: `route ${shown} ${problem}` });
  if (raw === "") return fail(`is empty; write host/path, e.g. ${example}`);
  if (hasControl(raw)) return fail("contains a control character");
  if (/\s/.test(raw)) return fail("contains whitespace");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  if (scheme) return fail(`must not include a scheme; write ${quote(raw.slice(scheme[0].length))}`);
  if (raw.includes("#")) return fail("must not contain '#' (a URL fragment is not part of a route)");
  if (raw.includes("?")) return fail("must not contain a query ('?'); end the path with * to match queries");
  if (raw.includes("\\")) return fail("must not contain '\\'");

  const slash = raw.indexOf("/");
  const hostPart = slash === -1 ? raw : raw.slice(0, slash);
  const path = slash === -1 ? "" : raw.slice(slash);
  if (hostPart === "") return fail(`has no host; write e.g. ${example}`);
  if (hostPart.includes("@")) return fail("must not contain credentials ('@' in the host)");
  if (/:\d*$/.test(hostPart))
    return fail("must not include a port; routes match every port Cloudflare proxies");

  const wildcard = hostPart.startsWith("*.") ? "*." : hostPart.startsWith("*") ? "*" : "";
  const bare = hostPart.slice(wildcard.length);
  if (bare.includes("*")) return fail("may use a wildcard only at the start of its host");
  const host = normaliseHost(bare, `api.${zoneName}`);
  if (!host.ok) return fail(`host ${quote(bare)} ${host.problem}`);

  if (path !== "") {
    if (path.slice(0, -1).includes("*")) {
      return fail("may use a wildcard in its path only at the end (no infix wildcard)");
    }
    if (!PATH.test(path)) {
      return fail("has a character a route path cannot hold; use letters, digits, - . _ ~ / and %-escapes");
    }
  }
  return { ok: true, route: { pattern: `${wildcard}${host.host}${path}`, host: host.host, wildcard, path } };
}

/** Whether `host` is `zone` itself or one of its subdomains. */
export function hostInZone(host: string, zone: string): boolean {
  return host === zone || host.endsWith(`.${zone}`);
}

/**
 * Finds, for a host, the most specific (longest) of `zones` that contains it (hostInZone), or
 * undefined: the host itself or its longest suffix after a dot that is one of them. One set lookup
 * per label instead of a scan of every zone per route.
 */
export function zoneLookup(zones: readonly string[]): (host: string) => string | undefined {
  const names = new Set(zones);
  return (host) => {
    if (names.has(host)) return host;
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
      const suffix = host.slice(dot + 1);
      if (names.has(suffix)) return suffix;
    }
    return undefined;
  };
}

/** The most specific (longest) of `zones` that contains `host`, or undefined. */
export function mostSpecificZone(host: string, zones: readonly string[]): string | undefined {
  return zoneLookup(zones)(host);
}

/** The key two routes collide on: Cloudflare compares the host case-insensitively, the path exactly. */
export function routeIdentity(route: RoutePattern): string {
  return `${route.wildcard}${route.host}${route.path === "" ? "/" : route.path}`;
}
