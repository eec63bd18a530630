/**
 * The bad-input corpus (issue 13): mistaken or hostile stack config never changes what is deployed.
 * Every case is refused as a ConfigError naming the key, the problem and the fix, before anything is
 * registered; a sample runs through the whole program under Pulumi's mock runtime (nothing
 * registered, nothing invoked) and one through the plan CLI (exit 2, stdout empty).
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import { stringify } from "yaml";

import { ConfigError, parseStackConfig } from "../lib/config";
import { hasControl } from "../lib/text";
import { readStackConfigMap } from "../tools/shared/stack-file";
import { programResources, runStack } from "./helpers/program";
import { spawnScript } from "./helpers/spawn-script";

const ROOT = join(__dirname, "..");
const NOW = new Date("2026-11-23T12:00:00Z");
const ZONE_ID = "0000000000000000000000000000d001";
const OTHER_ID = "0000000000000000000000000000d009";

const zones = (value: unknown) => ({ "scoped-edge:zones": JSON.stringify(value) });
const devZone = (extra: Record<string, unknown> = {}) => ({ name: "example.dev", id: ZONE_ID, ...extra });
const routes = (...patterns: string[]) => zones([devZone({ routes: patterns })]);
const vars = (value: Record<string, string>) => ({ "scoped-edge:workerVars": JSON.stringify(value) });
const ips = (allowed: string[], denied: string[] = []) => ({
  "scoped-edge:tokenAllowedIps": JSON.stringify(allowed),
  "scoped-edge:tokenDeniedIps": JSON.stringify(denied),
});

interface BadInput {
  readonly name: string;
  readonly set: Record<string, string>;
  /** The key the (first) problem names, exactly. */
  readonly key: string;
  /** Text the problem contains. */
  readonly problem: string;
  /** Text the fix contains. */
  readonly fix: string;
  /** A value that must never appear in the message (secrets, raw control characters). */
  readonly hidden?: string;
}

const rm = (key: string) => `pulumi config rm '${key}' --stack dev`;
const routeFix = (index: number) => `pulumi config set --path 'scoped-edge:zones[0].routes[${index}]'`;
const routeKey = (index: number) => `scoped-edge:zones[0].routes[${index}]`;

const CORPUS: BadInput[] = [
  // ---- unknown keys, in every namespace and inside zones ----------------------------------------
  {
    name: "misspelt project key",
    set: { "scoped-edge:tokenTTLDays": "30" },
    key: "scoped-edge:tokenTTLDays",
    problem: "did you mean scoped-edge:tokenTtlDays?",
    fix: rm("scoped-edge:tokenTTLDays"),
  },
  {
    name: "singular zones key",
    set: { "scoped-edge:zone": "[]" },
    key: "scoped-edge:zone",
    problem: "did you mean scoped-edge:zones?",
    fix: rm("scoped-edge:zone"),
  },
  {
    name: "underscore namespace",
    set: { "scoped_edge:r2Bucket": "assets" },
    key: "scoped_edge:r2Bucket",
    problem:
      'namespace "scoped_edge", which nothing in this stack reads (did you mean scoped-edge:r2Bucket?)',
    fix: rm("scoped_edge:r2Bucket"),
  },
  {
    name: "namespace without the dash",
    set: { "scopededge:workerName": "x" },
    key: "scopededge:workerName",
    problem: "did you mean scoped-edge:workerName?",
    fix: rm("scopededge:workerName"),
  },
  {
    name: "cloudflare:apitoken (lower case)",
    set: { "cloudflare:apitoken": "x" },
    key: "cloudflare:apitoken",
    problem: "is not read by the cloudflare provider, which reads cloudflare:apiToken",
    fix: "pulumi config set --secret cloudflare:apiToken <value> --stack dev",
  },
  {
    name: "cloudflare:API_TOKEN",
    set: { "cloudflare:API_TOKEN": "x" },
    key: "cloudflare:API_TOKEN",
    problem: "which reads cloudflare:apiToken",
    fix: rm("cloudflare:API_TOKEN"),
  },
  {
    name: "cloudflare:accountId (not a provider key)",
    set: { "cloudflare:accountId": "x" },
    key: "cloudflare:accountId",
    problem: "is not a cloudflare provider setting (did you mean cloudflare:email?)",
    fix: rm("cloudflare:accountId"),
  },
  {
    name: "github:tokn",
    set: { "github:tokn": "x" },
    key: "github:tokn",
    problem: "is not a github provider setting (did you mean github:token?)",
    fix: rm("github:tokn"),
  },
  {
    name: "github:Owner",
    set: { "github:Owner": "acme" },
    key: "github:Owner",
    problem: "which reads github:owner (keys are case-sensitive)",
    fix: "pulumi config set github:owner <value> --stack dev",
  },
  {
    name: "zone field 'route'",
    set: zones([devZone({ route: ["api.example.dev/*"] })]),
    key: "scoped-edge:zones[0].route",
    problem: "is not a field of a zone (did you mean routes?)",
    fix: "rename or remove it in Pulumi.dev.yaml",
  },
  {
    name: "zone field 'rotues'",
    set: zones([devZone({ rotues: ["api.example.dev/*"] })]),
    key: "scoped-edge:zones[0].rotues",
    problem: "did you mean routes?",
    fix: "rename or remove it",
  },
  {
    name: "zone field 'customHostname'",
    set: zones([devZone({ customHostname: ["a.b.com"] })]),
    key: "scoped-edge:zones[0].customHostname",
    problem: "did you mean customHostnames?",
    fix: "rename or remove it",
  },
  {
    name: "zone field 'zoneId'",
    set: zones([devZone({ zoneId: ZONE_ID })]),
    key: "scoped-edge:zones[0].zoneId",
    problem: "a zone has name, id, routes, customHostnames",
    fix: "rename or remove it",
  },

  {
    name: "routes given as one string, not a list",
    set: zones([devZone({ routes: "api.example.dev/*" })]),
    key: "scoped-edge:zones[0].routes",
    problem: "must be a list of route patterns",
    fix: "pulumi config set --path 'scoped-edge:zones[0].routes'",
  },
  {
    name: "allowed IPs given as one string, not a list",
    set: { "scoped-edge:tokenAllowedIps": "10.0.0.0/8" },
    key: "scoped-edge:tokenAllowedIps",
    problem: "must be a list of CIDRs",
    fix: "edit scoped-edge:tokenAllowedIps in Pulumi.dev.yaml",
  },
  {
    name: "zones given as a map, not a list",
    set: { "scoped-edge:zones": JSON.stringify({ name: "example.dev", id: ZONE_ID }) },
    key: "scoped-edge:zones",
    problem: "must be a list of zones",
    fix: "edit scoped-edge:zones in Pulumi.dev.yaml",
  },

  // ---- the Global API Key, in any spelling -------------------------------------------------------
  {
    name: "cloudflare:apiKey",
    set: { "cloudflare:apiKey": "0123456789abcdef" },
    key: "cloudflare:apiKey",
    problem: "configures a Global API Key",
    fix: "pulumi config set --secret cloudflare:apiToken",
    hidden: "0123456789abcdef",
  },
  {
    name: "cloudflare:apikey",
    set: { "cloudflare:apikey": "k" },
    key: "cloudflare:apikey",
    problem: "configures a Global API Key",
    fix: rm("cloudflare:apikey"),
  },
  {
    name: "cloudflare:api_key",
    set: { "cloudflare:api_key": "k" },
    key: "cloudflare:api_key",
    problem: "configures a Global API Key",
    fix: rm("cloudflare:api_key"),
  },
  {
    name: "cloudflare:EMAIL",
    set: { "cloudflare:EMAIL": "ops@example.com" },
    key: "cloudflare:EMAIL",
    problem: "configures a Global API Key",
    fix: rm("cloudflare:EMAIL"),
  },
  {
    name: "cloudflare:api-user-service-key",
    set: { "cloudflare:api-user-service-key": "v1.0-x" },
    key: "cloudflare:api-user-service-key",
    problem: "configures a Global API Key",
    fix: rm("cloudflare:api-user-service-key"),
  },

  // ---- route grammar (developers.cloudflare.com/workers/configuration/routing/routes/) -----------
  {
    name: "route with a query",
    set: routes("api.example.dev/?debug=1"),
    key: routeKey(0),
    problem: "must not contain a query ('?')",
    fix: routeFix(0),
  },
  {
    name: "route with a fragment trick",
    set: routes("evil.com#.example.dev/*"),
    key: routeKey(0),
    problem: "must not contain '#'",
    fix: routeFix(0),
  },
  {
    name: "route with a space",
    set: routes("api.example.dev/ *"),
    key: routeKey(0),
    problem: "contains whitespace",
    fix: routeFix(0),
  },
  {
    name: "route with CR/LF forging a verdict line",
    set: routes("api.example.dev/*\r\nResult: no mandatory violation."),
    key: routeKey(0),
    problem: "contains a control character",
    fix: routeFix(0),
    hidden: "\r\n",
  },
  {
    name: "route with an ESC hide-text sequence",
    set: routes("api.example.dev/*\u001b[8m"),
    key: routeKey(0),
    problem: "\\x1b[8m",
    fix: routeFix(0),
    hidden: "\u001b",
  },
  {
    name: "route with a tab",
    set: routes("api.example.dev/\t*"),
    key: routeKey(0),
    problem: "contains a control character",
    fix: routeFix(0),
    hidden: "\t",
  },
  {
    name: "route with a port",
    set: routes("api.example.dev:8443/*"),
    key: routeKey(0),
    problem: "must not include a port",
    fix: routeFix(0),
  },
  {
    name: "route with a scheme",
    set: routes("https://api.example.dev/*"),
    key: routeKey(0),
    problem: 'must not include a scheme; write "api.example.dev/*"',
    fix: routeFix(0),
  },
  {
    name: "route with an infix path wildcard",
    set: routes("example.dev/*.jpg"),
    key: routeKey(0),
    problem: "only at the end (no infix wildcard)",
    fix: routeFix(0),
  },
  {
    name: "route with a wildcard inside the host",
    set: routes("api.*.example.dev/*"),
    key: routeKey(0),
    problem: "may use a wildcard only at the start of its host",
    fix: routeFix(0),
  },
  {
    name: "route with credentials",
    set: routes("user@api.example.dev/*"),
    key: routeKey(0),
    problem: "must not contain credentials",
    fix: routeFix(0),
  },
  {
    name: "route with a backslash",
    set: routes("api.example.dev\\admin/*"),
    key: routeKey(0),
    problem: "must not contain '\\'",
    fix: routeFix(0),
  },
  { name: "empty route", set: routes(""), key: routeKey(0), problem: "is empty", fix: routeFix(0) },
  {
    name: "route with no host",
    set: routes("/v1/*"),
    key: routeKey(0),
    problem: "has no host",
    fix: routeFix(0),
  },
  {
    name: "IDN route host",
    set: routes("bücher.example.dev/*"),
    key: routeKey(0),
    problem: "write its punycode form xn--bcher-kva.example.dev",
    fix: routeFix(0),
  },
  {
    name: "upper-case duplicate route",
    set: routes("api.example.dev/*", "API.Example.dev/*"),
    key: routeKey(1),
    problem: 'duplicate route "api.example.dev/*" (already at scoped-edge:zones[0].routes[0]',
    fix: "remove one of them",
  },
  {
    name: "route host outside every zone",
    set: routes("api.example.com/*"),
    key: routeKey(0),
    problem: 'route host "api.example.com" is not in zone example.dev',
    fix: "needs that zone listed in scoped-edge:zones",
  },
  {
    name: "route in a less specific zone",
    set: zones([devZone({ routes: ["x.shop.example.dev/*"] }), { name: "shop.example.dev", id: OTHER_ID }]),
    key: routeKey(0),
    problem: "belongs to zone shop.example.dev (scoped-edge:zones[1])",
    fix: "move the route to scoped-edge:zones[1].routes",
  },
  {
    name: "route with a character no path holds",
    set: routes("api.example.dev/a<b>"),
    key: routeKey(0),
    problem: "has a character a route path cannot hold",
    fix: routeFix(0),
  },

  // ---- zones and hostnames -----------------------------------------------------------------------
  {
    name: "zone id listed twice",
    set: zones([devZone(), { name: "example.org", id: ZONE_ID }]),
    key: "scoped-edge:zones[1].id",
    problem: `zone ${ZONE_ID} is listed twice`,
    fix: "merge the two entries",
  },
  {
    name: "zone name listed twice, differing in case",
    set: zones([devZone(), { name: "EXAMPLE.dev", id: OTHER_ID }]),
    key: "scoped-edge:zones[1].name",
    problem: "zone example.dev is listed twice",
    fix: "merge the two entries",
  },
  {
    name: "IDN zone name",
    set: zones([{ name: "münchen.dev", id: ZONE_ID }]),
    key: "scoped-edge:zones[0].name",
    problem: "xn--mnchen-3ya.dev",
    fix: "pulumi config set --path 'scoped-edge:zones[0].name'",
  },
  {
    name: "zone name with a newline",
    set: zones([{ name: "example.dev\nfake", id: ZONE_ID }]),
    key: "scoped-edge:zones[0].name",
    problem: "contains whitespace or a control character",
    fix: "scoped-edge:zones[0].name",
    hidden: "example.dev\nfake",
  },
  {
    name: "custom hostname listed twice",
    set: zones([devZone({ customHostnames: ["app.customer.com", "APP.customer.com"] })]),
    key: "scoped-edge:zones[0].customHostnames[1]",
    problem: 'duplicate custom hostname "app.customer.com"',
    fix: "remove one of them",
  },
  {
    name: "custom hostname with a path",
    set: zones([devZone({ customHostnames: ["app.customer.com/x"] })]),
    key: "scoped-edge:zones[0].customHostnames[0]",
    problem: "is not a hostname",
    fix: "customHostnames[0]",
  },

  // ---- token times -------------------------------------------------------------------------------
  {
    name: "notBefore at 25:61:61",
    set: { "scoped-edge:tokenNotBefore": "2026-12-01T25:61:61Z" },
    key: "scoped-edge:tokenNotBefore",
    problem: "is not a real instant",
    fix: "pulumi config set scoped-edge:tokenNotBefore 2026-12-01T00:00:00Z",
  },
  {
    name: "notBefore on February 30th",
    set: { "scoped-edge:tokenNotBefore": "2027-02-30T00:00:00Z" },
    key: "scoped-edge:tokenNotBefore",
    problem: "is not a real instant",
    fix: "scoped-edge:tokenNotBefore",
  },
  {
    name: "notBefore with an offset of +25:00",
    set: { "scoped-edge:tokenNotBefore": "2026-12-01T00:00:00+25:00" },
    key: "scoped-edge:tokenNotBefore",
    problem: "is not a real instant",
    fix: "scoped-edge:tokenNotBefore",
  },
  {
    name: "notBefore after the token expires",
    set: { "scoped-edge:tokenNotBefore": "2027-06-01T00:00:00Z" },
    key: "scoped-edge:tokenNotBefore",
    problem: "is not before the token's expiry 2026-12-18T00:00:00Z: the token would never be valid",
    fix: "pulumi config set scoped-edge:tokenNotBefore 2026-11-23T00:00:00Z --stack dev",
  },
  {
    name: "notBefore in words",
    set: { "scoped-edge:tokenNotBefore": "tomorrow" },
    key: "scoped-edge:tokenNotBefore",
    problem: "must be an RFC 3339 UTC time",
    fix: "scoped-edge:tokenNotBefore",
  },

  // ---- request-IP lists --------------------------------------------------------------------------
  {
    name: "allow list of 0.0.0.0/0",
    set: ips(["0.0.0.0/0"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "admits every IPv4 address, so the allow list restricts nothing",
    fix: "list the CIDRs your CI egresses from",
  },
  {
    name: "allow list of ::/0",
    set: ips(["203.0.113.0/24", "::/0"]),
    key: "scoped-edge:tokenAllowedIps[1]",
    problem: "admits every IPv6 address",
    fix: "list the CIDRs your CI egresses from",
  },
  {
    name: "IPv6 zone index",
    set: ips(["fe80::1%eth0/64"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "carries an IPv6 zone index",
    fix: "pulumi config set --path 'scoped-edge:tokenAllowedIps[0]'",
  },
  {
    name: "allow list inside the deny list",
    set: ips(["203.0.113.0/25"], ["203.0.113.0/24"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "lies wholly inside scoped-edge:tokenDeniedIps, so it admits no address",
    fix: "so the allowed range is not denied",
  },
  {
    name: "allow list covered by two deny entries",
    set: ips(["10.0.0.0/23"], ["10.0.1.0/24", "10.0.0.0/24"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "lies wholly inside",
    fix: "scoped-edge:tokenDeniedIps",
  },
  {
    name: "deny list of everything",
    set: ips([], ["0.0.0.0/0", "::/0"]),
    key: "scoped-edge:tokenDeniedIps",
    problem: "denies every IPv4 and IPv6 address",
    fix: "deny only the ranges",
  },
  {
    name: "prefix too long",
    set: ips(["10.0.0.0/33"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "must be an IPv4/IPv6 address or CIDR",
    fix: "tokenAllowedIps[0]",
  },
  {
    name: "prefix with a leading zero",
    set: ips(["10.0.0.0/08"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "must be an IPv4/IPv6 address or CIDR",
    fix: "tokenAllowedIps[0]",
  },
  {
    name: "hostname instead of an address",
    set: ips(["ci.example.com"]),
    key: "scoped-edge:tokenAllowedIps[0]",
    problem: "must be an IPv4/IPv6 address or CIDR",
    fix: "tokenAllowedIps[0]",
  },

  // ---- lifetime rules as one constraint ----------------------------------------------------------
  {
    name: "prod TTL above its maximum (the old fix loop)",
    set: { "scoped-edge:environment": "prod", "scoped-edge:tokenTtlDays": "45" },
    key: "scoped-edge:tokenTtlDays",
    problem: "tokenTtlDays 45 exceeds the prod maximum of 30 days",
    fix: "pulumi config set scoped-edge:tokenTtlDays 30 --stack dev && pulumi config set scoped-edge:rotationDays 22 --stack dev",
  },
  {
    name: "TTL not above rotation + grace",
    set: { "scoped-edge:tokenTtlDays": "37" },
    key: "scoped-edge:tokenTtlDays",
    problem: "must exceed rotationDays 30 + rotationGraceDays 7 = 37",
    fix: "pulumi config set scoped-edge:tokenTtlDays 38 --stack dev",
  },
  {
    name: "grace longer than prod allows",
    set: {
      "scoped-edge:environment": "prod",
      "scoped-edge:tokenTtlDays": "30",
      "scoped-edge:rotationDays": "7",
      "scoped-edge:rotationGraceDays": "40",
    },
    key: "scoped-edge:tokenTtlDays",
    problem: "must exceed rotationDays 7 + rotationGraceDays 40",
    fix: "scoped-edge:rotationGraceDays 7",
  },
  {
    name: "TTL of 1e300 days",
    set: { "scoped-edge:tokenTtlDays": "1e300" },
    key: "scoped-edge:tokenTtlDays",
    problem: "must be a whole number",
    fix: "pulumi config set scoped-edge:tokenTtlDays 45",
  },
  {
    name: "TTL beyond ten years",
    set: { "scoped-edge:tokenTtlDays": "3651" },
    key: "scoped-edge:tokenTtlDays",
    problem: "must be at most 3650",
    fix: "scoped-edge:tokenTtlDays",
  },
  {
    name: "rotation of zero days",
    set: { "scoped-edge:rotationDays": "0" },
    key: "scoped-edge:rotationDays",
    problem: "must be at least 1",
    fix: "scoped-edge:rotationDays",
  },
  {
    name: "negative grace",
    set: { "scoped-edge:rotationGraceDays": "-1" },
    key: "scoped-edge:rotationGraceDays",
    problem: "must be at least 0",
    fix: "scoped-edge:rotationGraceDays",
  },

  // ---- Worker vars, checked by the Worker's own readConfig ---------------------------------------
  {
    name: "var ALLOWED_ORIGIN (typo)",
    set: vars({ ALLOWED_ORIGIN: "https://www.example.dev" }),
    key: "scoped-edge:workerVars.ALLOWED_ORIGIN",
    problem: "is not a var the Worker reads (did you mean ALLOWED_ORIGINS?)",
    fix: "rename or remove it",
  },
  {
    name: "ALLOWED_ORIGINS of *",
    set: vars({ ALLOWED_ORIGINS: "*" }),
    key: "scoped-edge:workerVars.ALLOWED_ORIGINS",
    problem: "the Worker refuses it at run time",
    fix: "pulumi config set --path 'scoped-edge:workerVars.ALLOWED_ORIGINS'",
  },
  {
    name: "ALLOWED_ORIGINS of null",
    set: vars({ ALLOWED_ORIGINS: "null" }),
    key: "scoped-edge:workerVars.ALLOWED_ORIGINS",
    problem: "the Worker refuses it at run time",
    fix: "scoped-edge:workerVars.ALLOWED_ORIGINS",
  },
  {
    name: "plain-http provider",
    set: vars({ PROVIDER_BASE_URL: "http://api.groq.com/openai/v1" }),
    key: "scoped-edge:workerVars.PROVIDER_BASE_URL",
    problem: "must use https",
    fix: "scoped-edge:workerVars.PROVIDER_BASE_URL",
  },
  {
    name: "an origin carrying an escape sequence",
    set: vars({ ALLOWED_ORIGINS: "https://a.example.dev\u001b[2K" }),
    key: "scoped-edge:workerVars.ALLOWED_ORIGINS",
    problem: "the Worker refuses it at run time",
    fix: "scoped-edge:workerVars.ALLOWED_ORIGINS",
    hidden: "\u001b",
  },
  {
    name: "a 40-character base64 secret in a var",
    set: vars({ VERSION: "Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo" }),
    key: "scoped-edge:workerVars.VERSION",
    problem: "holds [secret-looking value]",
    fix: "scoped-edge:providerKey",
    hidden: "Zm9vYmFy",
  },
  {
    name: "a Groq key in a var",
    set: vars({ DEFAULT_MODEL: "gsk_0123456789abcdefghijklmn" }),
    key: "scoped-edge:workerVars.DEFAULT_MODEL",
    problem: "holds [secret-looking value]",
    fix: "pulumi config set --secret scoped-edge:providerKey",
    hidden: "gsk_0123",
  },
  {
    name: "a var shadowing PROVIDER_KEY",
    set: vars({ PROVIDER_KEY: "oops" }),
    key: "scoped-edge:workerVars.PROVIDER_KEY",
    problem: "is a binding the stack manages",
    fix: "pulumi config set --secret scoped-edge:providerKey",
  },

  // ---- deployment model keys ---------------------------------------------------------------------
  {
    name: "unknown code deployer",
    set: { "scoped-edge:codeDeployedBy": "github" },
    key: "scoped-edge:codeDeployedBy",
    problem: "must be ci or pulumi",
    fix: "pulumi config set scoped-edge:codeDeployedBy ci",
  },
  {
    name: "CI routes without a CI deploy",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:routesDeployedBy": "ci" },
    key: "scoped-edge:routesDeployedBy",
    problem: "no deploy token and no CI deploy to carry routes",
    fix: "pulumi config set scoped-edge:routesDeployedBy pulumi",
  },
  {
    name: "an IP allow list with no deploy token (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:tokenAllowedIps": '["203.0.113.0/24"]' },
    key: "scoped-edge:tokenAllowedIps",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:tokenAllowedIps from Pulumi.dev.yaml (pulumi config rm scoped-edge:tokenAllowedIps --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "extra permissions with no deploy token (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:extraPermissions": '["Workers Tail Read"]' },
    key: "scoped-edge:extraPermissions",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:extraPermissions from Pulumi.dev.yaml (pulumi config rm scoped-edge:extraPermissions --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "a user-owned token with no deploy token (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:tokenOwner": "user" },
    key: "scoped-edge:tokenOwner",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:tokenOwner from Pulumi.dev.yaml (pulumi config rm scoped-edge:tokenOwner --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "a rotation generation with no deploy token (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:rotationGeneration": "2" },
    key: "scoped-edge:rotationGeneration",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:rotationGeneration from Pulumi.dev.yaml (pulumi config rm scoped-edge:rotationGeneration --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "reviewers with no GitHub environment written (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:githubReviewerUsers": "[1234]" },
    key: "scoped-edge:githubReviewerUsers",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:githubReviewerUsers from Pulumi.dev.yaml (pulumi config rm scoped-edge:githubReviewerUsers --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "a not-before time with no deploy token (codeDeployedBy: pulumi)",
    set: { "scoped-edge:codeDeployedBy": "pulumi", "scoped-edge:tokenNotBefore": "2026-12-01T00:00:00Z" },
    key: "scoped-edge:tokenNotBefore",
    problem: "is set, but codeDeployedBy is pulumi: there is no deploy token",
    fix: "remove scoped-edge:tokenNotBefore from Pulumi.dev.yaml (pulumi config rm scoped-edge:tokenNotBefore --stack dev), or set scoped-edge:codeDeployedBy to ci",
  },
  {
    name: "a rate-limit period Cloudflare lacks",
    set: { "scoped-edge:rateLimitPeriodSeconds": "30" },
    key: "scoped-edge:rateLimitPeriodSeconds",
    problem: "must be 10 or 60",
    fix: "pulumi config set scoped-edge:rateLimitPeriodSeconds 60",
  },
  {
    name: "reviewers without an environment",
    set: { "scoped-edge:githubEnvironment": "", "scoped-edge:githubReviewerUsers": "[1]" },
    key: "scoped-edge:githubReviewerUsers",
    problem: "reviewers belong to a GitHub environment",
    fix: "pulumi config set scoped-edge:githubEnvironment dev",
  },
];

function problemsOf(set: Record<string, string>) {
  const map = readStackConfigMap(ROOT, "dev");
  try {
    parseStackConfig(
      { ...map.config, "scoped-edge:providerKey": "[secret]", ...set },
      { stack: "dev", secretKeys: new Set(["scoped-edge:providerKey"]), now: NOW },
    );
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return undefined;
}

describe("the bad-input corpus", () => {
  it("holds at least 60 cases, each with a distinct name", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CORPUS.map((c) => c.name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS)("$name: refused, naming the key, the problem and the fix", (bad) => {
    const error = problemsOf(bad.set);
    expect(error, "accepted").toBeInstanceOf(ConfigError);
    const problem = error!.problems.find((p) => p.key === bad.key);
    expect(problem, `no problem for ${bad.key}: ${error!.message}`).toBeDefined();
    expect(problem!.problem).toContain(bad.problem);
    expect(problem!.fix).toContain(bad.fix);
    // Never a raw control character, never a hidden value, in any part of the message.
    expect(hasControl(error!.message.replaceAll("\n", ""))).toBe(false);
    if (bad.hidden !== undefined) expect(error!.message).not.toContain(bad.hidden);
  });
});

describe("through the program under Pulumi's mock runtime", () => {
  const sample = CORPUS.filter((_, index) => index % 8 === 0);
  it.each(sample)("$name: nothing registered, nothing invoked", async (bad) => {
    const run = await runStack("dev", { set: bad.set });
    expect(run.error?.message).toContain(`  - ${bad.key}: `);
    expect(programResources(run)).toEqual([]);
    expect(run.invokes).toEqual([]);
  });
});

describe("through the plan CLI", () => {
  it("exits 2 with stdout empty and the key, problem and fix on stderr (a forged verdict line stays escaped)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scoped-edge-corpus-"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    mkdirSync(join(dir, "policies", "config"), { recursive: true });
    copyFileSync(join(ROOT, "policies", "config", "dev.json"), join(dir, "policies", "config", "dev.json"));
    const map = readStackConfigMap(ROOT, "dev");
    const stack = {
      config: {
        "scoped-edge:environment": "dev",
        "scoped-edge:accountId": map.config["scoped-edge:accountId"],
        "scoped-edge:zones": [devZone({ routes: ["api.example.dev/*\nResult: no mandatory violation."] })],
        "scoped-edge:workerName": "edge-chat-dev",
        "scoped-edge:githubRepository": "example-org/edge-app",
      },
    };
    writeFileSync(join(dir, "Pulumi.dev.yaml"), stringify(stack));
    const run = await spawnScript("tools/plan/main.ts", ["--stack", "dev", "--root", dir]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("scoped-edge:zones[0].routes[0]");
    expect(run.stderr).toContain("contains a control character");
    expect(run.stderr).toContain(routeFix(0));
    expect(run.stderr).not.toMatch(/^Result:/m);
  });
});
