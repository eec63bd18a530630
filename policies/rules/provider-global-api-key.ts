import type { ResourceValidationPolicy } from "@pulumi/policy";

import { onlyFor } from "../lib/applicability";
import { joinWords } from "../lib/policy-config";
import { CLOUDFLARE_PROVIDER_TYPE } from "../lib/resource-types";

const present = (value: unknown) => value !== undefined && value !== null && value !== "";

export const providerGlobalApiKey: ResourceValidationPolicy = {
  name: "cloudflare-provider-disallow-global-api-key",
  description:
    "The Cloudflare provider must authenticate with a scoped API token, never with the Global API Key " +
    "(apiKey with email) or an Origin CA key (apiUserServiceKey). The Global API Key can do everything its user " +
    "can on every account, never expires and cannot be scoped.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Create a scoped API token and configure it with pulumi config set --secret cloudflare:apiToken <token>; " +
    "remove cloudflare:apiKey, cloudflare:email and cloudflare:apiUserServiceKey (pulumi config rm ...).",
  configSchema: { properties: {} },
  validateResource: onlyFor(
    [CLOUDFLARE_PROVIDER_TYPE],
    `Policy only applies to the Cloudflare provider (${CLOUDFLARE_PROVIDER_TYPE})`,
    (args, reportViolation) => {
      const props = args.props;
      const used = ["apiKey", "email", "apiUserServiceKey"].filter((key) => present(props[key]));
      // email alone is harmless; it only matters next to a key.
      if (!present(props["apiKey"]) && !present(props["apiUserServiceKey"])) return;
      const configKeys = used.map((key) => `cloudflare:${key}`);
      reportViolation(
        `The Cloudflare provider is configured with ${joinWords(used)} instead of a scoped API token. Run ` +
          `pulumi config set --secret cloudflare:apiToken <token> and remove ${joinWords(configKeys)} ` +
          `(pulumi config rm ${configKeys.join(" ")}).`,
      );
    },
  ),
};
