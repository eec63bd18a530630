/** Reads the stack's config map and its secret keys from the running Pulumi program. */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";

type SecretCheck = (key: string) => boolean;

/**
 * Which config keys hold secrets. @pulumi/pulumi knows (the CLI passes PULUMI_CONFIG_SECRET_KEYS)
 * but does not export the check in its typings, so it is reached through the module object.
 */
function secretCheck(): SecretCheck {
  const internal = (runtimeConfig as unknown as { isConfigSecret?: SecretCheck }).isConfigSecret;
  if (internal) return internal;
  const keys = new Set<string>(JSON.parse(process.env["PULUMI_CONFIG_SECRET_KEYS"] ?? "[]") as string[]);
  return (key) => keys.has(key);
}

export function readProgramConfig(): { config: Record<string, string>; secretKeys: Set<string> } {
  const config = pulumi.runtime.allConfig();
  const isSecret = secretCheck();
  return { config, secretKeys: new Set(Object.keys(config).filter((key) => isSecret(key))) };
}
