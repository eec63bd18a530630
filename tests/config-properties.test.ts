/**
 * Properties of the config checks that must hold for every input (fast-check): route patterns,
 * CIDR lists (against node:net's BlockList as the oracle), and lifetime fixes that never loop.
 */
import { BlockList } from "node:net";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  ConfigError,
  ENVIRONMENTS,
  lifetimeProblem,
  MAX_TTL_DAYS,
  parseStackConfig,
  proposeLifetime,
} from "../lib/config";
import { coveredBy, parseCidr, type Cidr } from "../lib/ip-ranges";
import { parseRoutePattern, routeIdentity } from "../lib/route-pattern";
import { hasControl } from "../lib/text";
import { readStackConfigMap } from "../tools/shared/stack-file";

const ROOT = `${__dirname}/..`;

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const zone = fc.tuple(label, fc.constantFrom("dev", "com", "net")).map(([name, tld]) => `${name}.${tld}`);
const pathChar = fc.constantFrom(..."abcXYZ019-._~!$&'()+,;=:@/".split(""), "%2F");
const path = fc
  .tuple(fc.array(pathChar, { maxLength: 12 }), fc.boolean())
  .map(([chars, star]) => `/${chars.join("")}${star ? "*" : ""}`);
const validRoute = fc.record({
  wildcard: fc.constantFrom("", "*", "*."),
  subdomains: fc.array(label, { maxLength: 3 }),
  zone,
  path: fc.option(path, { nil: undefined }),
});

/** Randomly upper-cases the letters of `text`. */
const recase = (text: string, mask: readonly boolean[]) =>
  [...text].map((c, i) => (mask[i % mask.length] ? c.toUpperCase() : c)).join("");

describe("route patterns", () => {
  it("every pattern of Cloudflare's grammar parses, host lower-cased, path kept, and normalising is idempotent", () => {
    fc.assert(
      fc.property(validRoute, fc.array(fc.boolean(), { minLength: 1 }), (route, mask) => {
        const host = [...route.subdomains, route.zone].join(".");
        const written = `${route.wildcard}${recase(host, mask)}${route.path ?? ""}`;
        const parsed = parseRoutePattern(written, route.zone);
        expect(parsed).toEqual({
          ok: true,
          route: {
            pattern: `${route.wildcard}${host}${route.path ?? ""}`,
            host,
            wildcard: route.wildcard,
            path: route.path ?? "",
          },
        });
        if (!parsed.ok) return;
        expect(parseRoutePattern(parsed.route.pattern, route.zone)).toEqual(parsed);
        // Case variants of the host collide; Cloudflare keeps the path case-sensitive.
        expect(routeIdentity(parsed.route)).toBe(
          routeIdentity({ ...parsed.route, host: host.toLowerCase() }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("a control character, whitespace, '?' or '#' anywhere is refused, and the message shows none raw", () => {
    const bad = fc.constantFrom(
      "\n",
      "\r",
      "\t",
      "\u001b",
      "\u0000",
      "\u007f",
      "\u0085",
      "\u202e",
      " ",
      "?",
      "#",
    );
    fc.assert(
      fc.property(validRoute, bad, fc.nat(), (route, character, at) => {
        const text = `${route.wildcard}${[...route.subdomains, route.zone].join(".")}${route.path ?? "/"}`;
        const index = at % (text.length + 1);
        const parsed = parseRoutePattern(
          `${text.slice(0, index)}${character}${text.slice(index)}`,
          route.zone,
        );
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(hasControl(parsed.problem)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on any string, and a refusal never carries a raw control character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        const parsed = parseRoutePattern(text, "example.dev");
        if (!parsed.ok) expect(hasControl(parsed.problem)).toBe(false);
        else expect(parsed.route.pattern).toMatch(/^\*?\.?[a-z0-9.-]+(\/\S*)?$/);
      }),
      { numRuns: 200 },
    );
  });
});

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join("."));
const v6 = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
  .map((parts) => parts.map((p) => p.toString(16)).join(":"));

function blockListOf(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address] = cidr.text.split("/");
    list.addSubnet(address!, cidr.prefix, cidr.family === 4 ? "ipv4" : "ipv6");
  }
  return list;
}

const toV4 = (value: bigint) => [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");

describe("CIDR lists", () => {
  it("a parsed range starts and ends where node:net's BlockList says, for IPv4 and IPv6", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(v4, fc.integer({ min: 0, max: 32 })),
          fc.tuple(v6, fc.integer({ min: 0, max: 128 })),
        ),
        ([address, prefix]) => {
          const parsed = parseCidr(`${address}/${prefix}`);
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          const { cidr } = parsed;
          expect(cidr.last - cidr.first + 1n).toBe(1n << BigInt((cidr.family === 4 ? 32 : 128) - prefix));
          const list = blockListOf([cidr]);
          const type = cidr.family === 4 ? "ipv4" : "ipv6";
          expect(list.check(address, type)).toBe(true);
          if (cidr.family === 4) {
            expect(list.check(toV4(cidr.first), "ipv4")).toBe(true);
            expect(list.check(toV4(cidr.last), "ipv4")).toBe(true);
            if (cidr.first > 0n) expect(list.check(toV4(cidr.first - 1n), "ipv4")).toBe(false);
            if (cidr.last < (1n << 32n) - 1n) expect(list.check(toV4(cidr.last + 1n), "ipv4")).toBe(false);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("'the allow entry admits no address' holds exactly when BlockList denies every one of its addresses", () => {
    // Small ranges inside 10.0.0.0/22, so every address can be checked against the oracle.
    const inside = fc
      .tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 22, max: 32 }))
      .map(([offset, prefix]) => `${toV4((10n << 24n) + BigInt(offset))}/${prefix}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1023 }),
        fc.integer({ min: 24, max: 32 }),
        fc.array(inside, { maxLength: 5 }),
        (offset, prefix, denied) => {
          const allowParse = parseCidr(`${toV4((10n << 24n) + BigInt(offset))}/${prefix}`);
          if (!allowParse.ok) throw new Error("generator");
          const deny = denied.map((text) => parseCidr(text)).flatMap((p) => (p.ok ? [p.cidr] : []));
          const list = blockListOf(deny);
          let everyDenied = true;
          for (let address = allowParse.cidr.first; address <= allowParse.cidr.last; address++) {
            if (!list.check(toV4(address), "ipv4")) {
              everyDenied = false;
              break;
            }
          }
          expect(coveredBy(allowParse.cidr, deny)).toBe(everyDenied);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("an IPv6 zone index is refused in any position", () => {
    fc.assert(
      fc.property(
        v6,
        fc.stringMatching(/^[a-z0-9]{1,8}$/),
        fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }),
        (address, iface, prefix) => {
          const parsed = parseCidr(`${address}%${iface}${prefix === undefined ? "" : `/${prefix}`}`);
          expect(parsed.ok).toBe(false);
        },
      ),
    );
  });
});

describe("lifetime fixes never loop", () => {
  const base = readStackConfigMap(ROOT, "dev").config;
  const parse = (config: Record<string, string>) =>
    parseStackConfig(
      { ...config, "scoped-edge:providerKey": "[secret]" },
      {
        stack: "dev",
        secretKeys: new Set(["scoped-edge:providerKey"]),
        now: new Date("2026-11-23T12:00:00Z"),
      },
    );

  it("the proposed combination satisfies every lifetime rule at once", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ENVIRONMENTS),
        fc.integer({ min: 1, max: 3650 }),
        fc.integer({ min: 1, max: 3650 }),
        fc.integer({ min: 0, max: 3650 }),
        (environment, tokenTtlDays, rotationDays, rotationGraceDays) => {
          const proposal = proposeLifetime(
            { tokenTtlDays, rotationDays, rotationGraceDays },
            MAX_TTL_DAYS[environment],
          );
          expect(lifetimeProblem(proposal, MAX_TTL_DAYS[environment])).toBeUndefined();
          expect(proposal.rotationDays).toBeGreaterThanOrEqual(1);
          expect(proposal.rotationGraceDays).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("running the fix's commands on the stack yields a config the program accepts", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ENVIRONMENTS),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        (environment, ttl, rotation, grace) => {
          let config: Record<string, string> = {
            ...base,
            "scoped-edge:environment": environment,
            "scoped-edge:tokenTtlDays": String(ttl),
            "scoped-edge:rotationDays": String(rotation),
            "scoped-edge:rotationGraceDays": String(grace),
          };
          try {
            parse(config);
            return;
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            expect(error.problems.map((p) => p.key)).toEqual(["scoped-edge:tokenTtlDays"]);
            for (const [, key, value] of error.problems[0]!.fix.matchAll(
              /pulumi config set (scoped-edge:\w+) (\d+) --stack dev/g,
            )) {
              config = { ...config, [key!]: value! };
            }
          }
          expect(() => parse(config)).not.toThrow();
        },
      ),
      { numRuns: 250 },
    );
  });
});
