/**
 * tools/plan/markdown.ts: the job-summary Markdown and its credential diagram, parsed by Mermaid's
 * own parser (mermaid 11, pinned); the README shows the dev stack's diagram, equal to the generator's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import DOMPurify from "dompurify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  credentialDiagram,
  credentialFacts,
  renderMarkdown,
  type CredentialFacts,
} from "../../tools/plan/markdown";
import { runPlan } from "../../tools/plan/run";
import { committedStack, NOW, removeTempRoots, REPO, tempRoot } from "./helpers";

afterAll(removeTempRoots);

type Mermaid = { parse(text: string): Promise<{ diagramType: string }> };
let mermaid: Mermaid;

beforeAll(async () => {
  // Mermaid sanitizes labels with DOMPurify, which needs a browser DOM to do anything. Parsing does
  // not depend on sanitizing, so in Node its two entry points become no-ops (the same module
  // instance mermaid imports).
  const purify = DOMPurify as unknown as { addHook: () => void; sanitize: (text: string) => string };
  purify.addHook = () => undefined;
  purify.sanitize = (text: string) => text;
  mermaid = ((await import("mermaid")) as unknown as { default: Mermaid }).default;
}, 30_000);

/** The diagram's edges as "from -> to: label" lines, for exact assertions. */
const edges = (diagram: string) =>
  [...diagram.matchAll(/^ {2}(\w+) -->\|"([^"]*)"\| (\w+)$/gm)].map(
    ([, from, text, to]) => `${from} -> ${to}: ${text}`,
  );
const node = (diagram: string, id: string) => new RegExp(`^ {2}${id}\\W.*$`, "m").exec(diagram)?.[0];

async function planFacts(stackText: string, stack = "dev") {
  const root = tempRoot({ [stack]: stackText });
  const { report } = await runPlan({ root, stack, now: new Date(NOW) });
  return { report, facts: credentialFacts(report) };
}

const README_START = "<!-- credential-diagram: generated for the dev stack; tests/plan/markdown.test.ts -->";

describe("the credential diagram", () => {
  it("Mermaid's parser accepts it, and refuses a broken one (the parser is really running)", async () => {
    const facts: CredentialFacts = {
      stack: "qa",
      workerName: 'edge"<b>`x`</b>\u001b',
      deployToken: {
        owner: "account",
        expiresOn: "2026-12-18T00:00:00Z",
        ttlDays: 45,
        repository: "o/r",
        environment: "qa",
      },
    };
    for (const dated of [true, false]) {
      await expect(mermaid.parse(credentialDiagram(facts, { dated }))).resolves.toMatchObject({
        diagramType: "flowchart-v2",
      });
    }
    await expect(mermaid.parse('flowchart LR\n  a["x"] -->|"y| b\n')).rejects.toThrow(/Parse error/);
    // Quotes, angle brackets, backticks and control characters cannot break out of a label.
    expect(credentialDiagram(facts, { dated: true })).toContain(
      'worker(["Worker edge#quot;#lt;b#gt;#96;x#96;#lt;/b#gt;\\x1b"])',
    );
  }, 30_000);

  it("dev (account-owned token, environment secret): who creates, where it lives, who reads, expiry", async () => {
    const { facts } = await planFacts(committedStack("dev"));
    expect(facts).toEqual({
      stack: "dev",
      workerName: "edge-chat-dev",
      deployToken: {
        owner: "account",
        expiresOn: "2026-12-18T00:00:00Z",
        ttlDays: 45,
        repository: "example-org/edge-app",
        environment: "dev",
      },
    });
    const diagram = credentialDiagram(facts, { dated: true });
    await mermaid.parse(diagram);
    expect(edges(diagram)).toEqual([
      "you -> admin: creates in the Cloudflare dashboard",
      "admin -> adminStore: stored in",
      "adminStore -> pulumi: read by",
      "pulumi -> deploy: creates and rotates",
      "deploy -> deployStore: stored in",
      "deployStore -> ci: read by",
      "ci -> worker: uploads the code",
      "you -> key: creates at the LLM provider",
      "key -> keyStore: stored in",
      "keyStore -> pulumi: read by",
      "pulumi -> workerSecret: writes",
      "workerSecret -> worker: read by",
    ]);
    expect(node(diagram, "admin")).toContain(
      "Cloudflare account API token: #quot;Account API Tokens Write#quot; + what Pulumi creates",
    );
    expect(node(diagram, "deploy")).toContain(
      "expires 45 days into its rotation window<br/>this one: 2026-12-18T00:00:00Z",
    );
    expect(node(diagram, "deployStore")).toBe(
      '  deployStore[("GitHub Actions environment secret<br/>example-org/edge-app, environment dev")]',
    );
  }, 30_000);

  it("tokenOwner user and no githubEnvironment: a user token, a repository secret", async () => {
    const stack = committedStack("dev")
      .replace(/^ {2}scoped-edge:githubEnvironment: .*\n/m, "")
      .concat("  scoped-edge:tokenOwner: user\n");
    const { facts } = await planFacts(stack);
    expect(facts.deployToken).toEqual({
      owner: "user",
      expiresOn: "2026-12-18T00:00:00Z",
      ttlDays: 45,
      repository: "example-org/edge-app",
    });
    const diagram = credentialDiagram(facts, { dated: false });
    await mermaid.parse(diagram);
    expect(node(diagram, "admin")).toContain(
      "Cloudflare user API token: #quot;API Tokens Write#quot; + what Pulumi creates",
    );
    expect(node(diagram, "deployStore")).toBe(
      '  deployStore[("GitHub Actions repository secret<br/>example-org/edge-app")]',
    );
    expect(diagram).not.toContain("this one:");
  }, 30_000);

  it("codeDeployedBy pulumi: no deploy token anywhere in the picture", async () => {
    const { facts } = await planFacts(`${committedStack("dev")}  scoped-edge:codeDeployedBy: pulumi\n`);
    expect(facts).toEqual({ stack: "dev", workerName: "edge-chat-dev" });
    const diagram = credentialDiagram(facts, { dated: true });
    await mermaid.parse(diagram);
    expect(diagram).not.toContain("CLOUDFLARE_API_TOKEN");
    expect(edges(diagram)).toContain(
      "pulumi -> worker: uploads the code (codeDeployedBy: pulumi, no deploy token)",
    );
    expect(node(diagram, "admin")).not.toContain("Tokens Write");
  }, 30_000);

  it("the job summary embeds the dated diagram in a mermaid block", async () => {
    const { report, facts } = await planFacts(committedStack("dev"));
    const markdown = renderMarkdown(report);
    const block = /\n```mermaid\n([\s\S]*?)```\n/.exec(markdown)?.[1];
    expect(block).toBe(credentialDiagram(facts, { dated: true }));
  }, 30_000);

  it("the README shows the dev stack's diagram, exactly as generated (undated)", async () => {
    const { facts } = await planFacts(committedStack("dev"));
    const expected = credentialDiagram(facts, { dated: false });
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const start = readme.indexOf(README_START);
    const block = start < 0 ? undefined : /^```mermaid\n([\s\S]*?)```$/m.exec(readme.slice(start))?.[1];
    expect(
      block,
      `README.md must hold, after the line\n${README_START}\nthis block:\n\`\`\`mermaid\n${expected}\`\`\`\n`,
    ).toBe(expected);
  }, 30_000);
});
