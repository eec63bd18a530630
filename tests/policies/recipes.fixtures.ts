/** The three real-world token recipes of issue 3. */
import { API_TOKEN_TYPE, CUSTOM_HOSTNAME_TYPE, R2_BUCKET_TYPE } from "../../policies/lib/resource-types";
import { ACCOUNT, devStack, IDS, tokenPolicies, ZONE } from "./fixtures";
import type { ResourceInput } from "./harness";

export const USER_TAG = "0123456789abcdef0123456789abcdef";

/** (a) The dashboard's "Edit Cloudflare Workers" template on all accounts and all zones, no expiry. */
export function editWorkersTemplateToken(): ResourceInput {
  return {
    type: API_TOKEN_TYPE,
    name: "deploy-token",
    props: {
      name: "Edit Cloudflare Workers",
      policies: tokenPolicies([
        {
          permissions: [
            "Account Settings Read",
            "Workers KV Storage Write",
            "Workers R2 Storage Write",
            "Workers Scripts Write",
            "Workers Tail Read",
          ],
          resources: JSON.stringify({ "com.cloudflare.api.account.*": "*" }),
        },
        {
          permissions: ["Workers Routes Write"],
          resources: JSON.stringify({ "com.cloudflare.api.account.zone.*": "*" }),
        },
        {
          permissions: ["User Details Read", "Memberships Read"],
          resources: JSON.stringify({ [`com.cloudflare.api.user.${USER_TAG}`]: "*" }),
        },
      ]),
    },
  };
}

/** (b) One account, one zone, exactly the Workers deploy permissions, 30-day expiry. */
export function scopedWorkersToken(accountId: string, zoneId: string, expiresOn: string): ResourceInput {
  return {
    type: API_TOKEN_TYPE,
    name: "deploy-token",
    props: {
      name: "workers deploy",
      policies: tokenPolicies([
        {
          permissions: ["Workers Scripts Write", "Workers KV Storage Write", "Account Settings Read"],
          resources: JSON.stringify({ [ACCOUNT(accountId)]: "*" }),
        },
        {
          permissions: ["Workers Routes Write", "Zone Read"],
          resources: JSON.stringify({ [ZONE(zoneId)]: "*" }),
        },
      ]),
      expiresOn,
    },
  };
}

/** (c) The SaaS token: (b) plus Workers R2 Storage Write and SSL and Certificates Read/Write. */
export function saasToken(accountId: string, zoneId: string, expiresOn: string): ResourceInput {
  const base = scopedWorkersToken(accountId, zoneId, expiresOn);
  return {
    ...base,
    props: {
      ...base.props,
      policies: tokenPolicies([
        {
          permissions: [
            "Workers Scripts Write",
            "Workers KV Storage Write",
            "Workers R2 Storage Write",
            "Account Settings Read",
          ],
          resources: JSON.stringify({ [ACCOUNT(accountId)]: "*" }),
        },
        {
          permissions: [
            "Workers Routes Write",
            "Zone Read",
            "SSL and Certificates Read",
            "SSL and Certificates Write",
          ],
          resources: JSON.stringify({ [ZONE(zoneId)]: "*" }),
        },
      ]),
    },
  };
}

/** The dev stack plus an R2 bucket and a custom hostname on the dev zone. */
export function saasStack(token: ResourceInput): ResourceInput[] {
  return [
    ...devStack(token),
    {
      type: R2_BUCKET_TYPE,
      name: "edge-worker-assets",
      props: { accountId: IDS.devAccount, name: "edge-assets" },
    },
    {
      type: CUSTOM_HOSTNAME_TYPE,
      name: "edge-worker-hostname-0",
      props: { zoneId: IDS.devZone, hostname: "chat.customer.example" },
    },
  ];
}
