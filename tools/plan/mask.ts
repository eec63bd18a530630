/**
 * Secret masking for everything the offline plan prints. Pure: values arrive either in Pulumi's
 * wire form (a secret is an object carrying the secret signature) or as the offline runtime's
 * resolved outputs (a secret is `{ secret: true, value }`); both become "[secret]", so no secret
 * value can reach stdout, stderr or the JSON document.
 */
import * as rpc from "@pulumi/pulumi/runtime/rpc";

import { PLAINTEXT_SECRETS_DEFAULTS } from "../../policies/rules/worker-plaintext-secrets";
import { secretValueKind, secretWordsInName } from "../../policies/lib/secret-patterns";
import { SECRET_PLACEHOLDER } from "../shared/stack-file";

/** Pulumi's wire signatures, from the SDK itself so they cannot drift. */
export const SIG_KEY: string = rpc.specialSigKey;
export const SECRET_SIG: string = rpc.specialSecretSig;
const RESOURCE_SIG: string = rpc.specialResourceSig;
const OUTPUT_SIG: string = rpc.specialOutputValueSig;
const ASSET_SIG: string = rpc.specialAssetSig;
const ARCHIVE_SIG: string = rpc.specialArchiveSig;
/** The unknown-value sentinel of the wire form (a value not known until the update runs). */
const UNKNOWN_SENTINEL: string = rpc.unknownValue;

export const SECRET = SECRET_PLACEHOLDER;
export const UNKNOWN = "[unknown]";

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Wire-form value -> plain JSON with secrets as "[secret]" and unknowns as "[unknown]". */
export function maskWire(value: unknown): unknown {
  if (value === UNKNOWN_SENTINEL) return UNKNOWN;
  if (Array.isArray(value)) return value.map(maskWire);
  if (!isRecord(value)) return value;
  switch (value[SIG_KEY]) {
    case SECRET_SIG:
      return SECRET;
    case OUTPUT_SIG:
      return value["secret"] === true ? SECRET : "value" in value ? maskWire(value["value"]) : UNKNOWN;
    case RESOURCE_SIG:
      return maskWire(value["urn"]);
    case ASSET_SIG:
    case ARCHIVE_SIG:
      return "[asset]";
    default:
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskWire(inner)]));
  }
}

/** Output of the offline runtime's resolveOutputs -> plain JSON with secrets as "[secret]". */
export function maskResolved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskResolved);
  if (!isRecord(value)) return value;
  if (value["secret"] === true && "value" in value && Object.keys(value).length === 2) return SECRET;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskResolved(inner)]));
}

/** Wraps `value` as a wire-form secret. */
export function wireSecret(value: unknown): Record<string, unknown> {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** What the plan prints instead of a plain value that looks like a secret. */
export const SECRET_LOOKING = "[secret-looking value]";

/** Inputs that hold the bundle itself or its hash: long hex there is not a key. */
const NOT_SECRET_KEYS: ReadonlySet<string> = new Set(["content", "contentSha256"]);

/**
 * A resource's (already masked) inputs with every plain value the policy pack would call a secret
 * replaced by "[secret-looking value]": string values shaped like keys (policies/lib/secret-patterns.ts,
 * at the pack's default hex threshold), and the text of plain_text bindings whose name marks a
 * secret. The plan never prints such a value in full, in text, Markdown or JSON.
 */
export function maskSecretLooking(inputs: Record<string, unknown>): Record<string, unknown> {
  const minHex = PLAINTEXT_SECRETS_DEFAULTS.minHexSecretLength;
  const visit = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value !== SECRET && secretValueKind(value, minHex) !== undefined ? SECRET_LOOKING : value;
    }
    if (Array.isArray(value)) return value.map(visit);
    if (!isRecord(value)) return value;
    const secretName =
      value["type"] === "plain_text" &&
      typeof value["name"] === "string" &&
      secretWordsInName(value["name"]).length > 0;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        secretName && key === "text" && inner !== SECRET ? SECRET_LOOKING : visit(inner),
      ]),
    );
  };
  return Object.fromEntries(
    Object.entries(inputs).map(([key, value]) => [key, NOT_SECRET_KEYS.has(key) ? value : visit(value)]),
  );
}

/**
 * A dynamic resource (`pulumi.dynamic.Resource`) registers as `pulumi-nodejs:dynamic[/<module>]:<type>`
 * with its provider serialized into the reserved input `__provider` (@pulumi/pulumi dynamic/index.js).
 * That text is ~9 KB of generated code that follows whichever transpiler loaded the program (tsx,
 * the esbuild bundle, ts-node), so the plan prints this instead; the policy pack still sees it.
 */
export const DYNAMIC_PROVIDER_INPUT = "__provider";
export const DYNAMIC_PROVIDER_PLACEHOLDER = "[serialized dynamic provider]";
const DYNAMIC_TYPE = /^pulumi-nodejs:dynamic(\/[^:]*)?:/;

/** `inputs` of a resource of `type`, with a dynamic resource's serialized provider as the placeholder. */
export function withoutProviderSource(
  type: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  if (!DYNAMIC_TYPE.test(type) || !(DYNAMIC_PROVIDER_INPUT in inputs)) return inputs;
  return { ...inputs, [DYNAMIC_PROVIDER_INPUT]: DYNAMIC_PROVIDER_PLACEHOLDER };
}
