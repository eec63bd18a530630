/**
 * The scoped-edge CrossGuard policy pack. This file only assembles the PolicyPack; every policy lives in
 * rules/, one per file. Run it with:
 *   pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json
 */
import { PolicyPack } from "@pulumi/policy";

import { useRealClockOnly } from "./lib/clock";
import { POLICY_PACK_NAME, policies } from "./rules";

// Under `pulumi preview --policy-pack` the time policies judge by the real clock only.
useRealClockOnly();

new PolicyPack(POLICY_PACK_NAME, {
  description:
    "Cloudflare API and account tokens least-privilege, scoped, expiring and rotated; Worker secrets kept out " +
    "of plain bindings; no Global API Key.",
  provider: "cloudflare",
  tags: ["cloudflare", "tokens", "least-privilege"],
  policies,
});
