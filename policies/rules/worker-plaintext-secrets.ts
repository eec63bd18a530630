import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

import { onlyFor } from "../lib/applicability";
import { joinWords, NUMBER_BOUNDS, readPolicyConfig } from "../lib/policy-config";
import { SCRIPT_TYPES } from "../lib/resource-types";
import { secretValueKind, secretWordsInName } from "../lib/secret-patterns";
import { reportingConfigErrors } from "./support";

export interface PlaintextSecretsConfig {
  /** Plain-text binding names that look like secrets but are not (e.g. a public key). */
  readonly allowedPlainTextNames: readonly string[];
  /** A run of this many hex characters in a value counts as a secret. */
  readonly minHexSecretLength: number;
}

export const PLAINTEXT_SECRETS_DEFAULTS: PlaintextSecretsConfig = {
  allowedPlainTextNames: [],
  minHexSecretLength: 37,
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export const workerPlaintextSecrets: ResourceValidationPolicy = {
  name: "cloudflare-worker-disallow-secrets-in-plain-bindings",
  description:
    "A Worker binding whose name or value looks like a secret must be a secret_text binding. plain_text " +
    "bindings are shown in clear in the Cloudflare dashboard, the Pulumi state and every preview; names with " +
    "KEY, TOKEN, SECRET or PASSWORD and values shaped like API keys (gsk_, cfut_, cfat_, sk-, long hex) are " +
    "treated as secrets.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Change the binding's type to secret_text and feed its text from a Pulumi secret (pulumi config set --secret " +
    "<key> <value>); if the name is not a secret, list it in allowedPlainTextNames.",
  configSchema: {
    properties: {
      allowedPlainTextNames: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: "plain_text binding names that look like secrets but are not (e.g. PUBLIC_KEY).",
      },
      minHexSecretLength: {
        type: "integer",
        minimum: NUMBER_BOUNDS["minHexSecretLength"]![0],
        maximum: NUMBER_BOUNDS["minHexSecretLength"]![1],
        default: PLAINTEXT_SECRETS_DEFAULTS.minHexSecretLength,
        description:
          "A run of at least this many hex characters in a plain value counts as a secret (37: a Global API Key; " +
          "32-hex account and zone ids stay allowed).",
      },
    },
  },
  validateResource: onlyFor(
    SCRIPT_TYPES,
    `Policy only applies to Worker scripts (${SCRIPT_TYPES.join(", ")})`,
    reportingConfigErrors((args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const config = readPolicyConfig(args, PLAINTEXT_SECRETS_DEFAULTS);
      const bindings: unknown = args.props["bindings"];
      if (!Array.isArray(bindings)) return;
      for (const binding of bindings) {
        if (!isRecord(binding) || binding["type"] !== "plain_text") continue;
        const name = typeof binding["name"] === "string" ? binding["name"] : "";
        if (config.allowedPlainTextNames.includes(name)) continue;
        const words = secretWordsInName(name);
        const text = binding["text"];
        const kind = typeof text === "string" ? secretValueKind(text, config.minHexSecretLength) : undefined;
        if (words.length === 0 && kind === undefined) continue;
        const why = [
          ...(words.length > 0 ? [`its name contains ${joinWords(words)}`] : []),
          ...(kind !== undefined ? [`its value looks like ${kind}`] : []),
        ].join(" and ");
        reportViolation(
          `Binding "${name}" is plain_text but ${why}. Make it a secret_text binding whose text comes from a ` +
            `Pulumi secret, or list "${name}" in allowedPlainTextNames if it is not a secret.`,
        );
      }
    }),
  ),
};
