/**
 * The node tests share module caches across files (vitest.config.mts: isolate: false), so nothing a
 * test file does to process.env may outlive it: the variables as they were when the file started
 * are put back when it ends (a clock pinned by one file must not pin the next one's).
 */
import { afterAll } from "vitest";

const atStart = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) {
    if (!(name in atStart)) delete process.env[name];
  }
  Object.assign(process.env, atStart);
});
