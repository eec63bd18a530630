import { describe, expect, it } from "vitest";
import { policies } from "../../policies/rules";
import { analyzeAll, loadConfig, withNow } from "./harness";
import { devStack, NOW } from "./fixtures";

describe("smoke", () => {
  it("baseline", async () => {
    const d = await analyzeAll(policies, devStack(), { config: withNow(loadConfig("dev"), NOW) });
    console.log(JSON.stringify(d, null, 1));
    expect(d).toEqual([]);
  });
});
