/**
 * Secret masking for everything the offline plan prints. Pure: values arrive either in Pulumi's
 * wire form (a secret is an object carrying the secret signature) or as the offline runtime's
 * resolved outputs (a secret is `{ secret: true, value }`); both become "[secret]", so no secret
 * value can reach stdout, stderr or the JSON document.
 */
import * as rpc from "@pulumi/pulumi/runtime/rpc";

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
