/**
 * The stack configuration the verifier checks a token against, read from the committed stack files.
 * Secrets are never committed (providerKey lives only in the Pulumi backend), and the verifier never
 * needs their values, so a missing secret key is filled with the offline placeholder before the
 * config is validated: everything else is checked exactly as `pulumi up` would check it.
 */
import { parseStackConfig, PROJECT, SECRET_KEYS, type StackConfig } from "../../lib/config";
import { readStackConfigMap, SECRET_PLACEHOLDER } from "../shared/stack-file";

export function loadStackConfig(root: string, stack: string): StackConfig {
  const { config, secretKeys } = readStackConfigMap(root, stack);
  const filled: Record<string, string> = { ...config };
  const secrets = new Set(secretKeys);
  for (const key of SECRET_KEYS) {
    const fullKey = `${PROJECT}:${key}`;
    if (filled[fullKey] === undefined || filled[fullKey] === "") {
      filled[fullKey] = SECRET_PLACEHOLDER;
      secrets.add(fullKey);
    }
  }
  return parseStackConfig(filled, { stack, secretKeys: secrets });
}
