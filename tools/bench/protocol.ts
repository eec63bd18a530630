/**
 * What npm run bench's parent (tools/bench/plan.ts) and its children (tools/bench/plan-child.ts)
 * share: the bench stack's names, the IPC messages and the median both take. A module of its own,
 * with no entry point: the parent imports it without bundling the child's `require.main` check.
 */
export const PROJECT = "scoped-edge";
export const STACK = "bench";

/** One timed run. */
export interface RunTimings {
  readonly ms: number;
  /** The plan's program and policy phases (plan only). */
  readonly programMs?: number;
  readonly policyMs?: number;
}

/** What a child reports after its runs. */
export interface ChildSummary {
  readonly registered: number;
  readonly lookups?: number;
  readonly invokes?: number;
  readonly violations?: number;
  readonly mandatory?: number;
  /** Peak resident set size of the child, MiB. */
  readonly peakRssMb: number;
  /** Resident set size after warm-up, before the first timed run, MiB. */
  readonly baseRssMb: number;
}

/** The messages between parent and child. */
export type ToChild = "run" | "finish";
export type FromChild =
  /** Warmed up; `registered` as the summary will say (the bare floor registers as many). */
  | { readonly kind: "ready"; readonly registered: number }
  | { readonly kind: "run"; readonly timings: RunTimings }
  | { readonly kind: "summary"; readonly summary: ChildSummary };

/** The middle value, or the mean of the two middle values of an even count (not the upper one). */
export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
