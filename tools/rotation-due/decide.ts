/**
 * Whether a stack's deploy token is due for rotation: the decision the scheduled rotate workflow
 * makes for each stack before it asks for an environment (and so, for prod, a reviewer).
 *
 * Pure. The token is replaced by the first `pulumi up` after its rotation window rolls over
 * (policies/lib/rotation.ts, the same function the program uses) or after
 * scoped-edge:rotationGeneration changes, so a daily run applies a stack exactly when a window
 * boundary fell within the last `lookbackHours`. A lookback longer than the schedule's interval
 * makes the next runs retry a rollover that a failed run did not apply.
 */
import type { StackConfig } from "../../lib/config";
import { rotationWindow, toRfc3339 } from "../../policies/lib/rotation";

export const HOUR_MS = 3_600_000;

export interface RotationRequest {
  /** The run's time. */
  readonly now: Date;
  /** How far back a window rollover still counts as due (whole hours, at least 1). */
  readonly lookbackHours: number;
  /** Apply the stack whatever the window (a manual dispatch). */
  readonly force: boolean;
  /** Emergency rotation: apply with scoped-edge:rotationGeneration one higher than committed. */
  readonly bumpGeneration: boolean;
}

export interface RotationDecision {
  readonly stack: string;
  /** Whether the workflow should `pulumi up` this stack now. */
  readonly due: boolean;
  /** One sentence for the run summary. */
  readonly reason: string;
  /** Whether the stack has a deploy token at all (none with codeDeployedBy: pulumi). */
  readonly hasDeployToken: boolean;
  /** The current window: when its token was minted, when the next one is, when it expires. */
  readonly windowStart: string;
  readonly nextRotation: string;
  readonly expiresOn: string;
  /** scoped-edge:rotationGeneration as committed in Pulumi.<stack>.yaml. */
  readonly committedGeneration: number;
  /** The generation `pulumi up` must run with: committed + 1 when bumping, else committed. */
  readonly generation: number;
}

/** A request the decision cannot honour; the message names the input and the fix. */
export class RotationRequestError extends Error {
  override readonly name = "RotationRequestError";
}

/** The part of a validated stack config the decision reads. */
export interface RotationStack {
  readonly stack: string;
  readonly codeDeployedBy: StackConfig["codeDeployedBy"];
  readonly token: Pick<StackConfig["token"], "rotationDays" | "ttlDays" | "graceDays" | "generation">;
}

export function decideRotation(config: RotationStack, request: RotationRequest): RotationDecision {
  const { lookbackHours, now } = request;
  if (!Number.isInteger(lookbackHours) || lookbackHours < 1) {
    throw new RotationRequestError(
      `lookback must be a whole number of hours of at least 1 (got ${lookbackHours}); use at least the interval between scheduled runs, e.g. 72`,
    );
  }
  if (Number.isNaN(now.getTime())) throw new RotationRequestError("now is not a valid date");
  const hasDeployToken = config.codeDeployedBy === "ci";
  if (request.bumpGeneration && !hasDeployToken) {
    throw new RotationRequestError(
      `stack ${config.stack} has no deploy token to rotate (scoped-edge:codeDeployedBy is pulumi); run without the generation bump`,
    );
  }
  const schedule = {
    rotationDays: config.token.rotationDays,
    ttlDays: config.token.ttlDays,
    graceDays: config.token.graceDays,
  };
  const current = rotationWindow(now, schedule);
  const before = rotationWindow(new Date(now.getTime() - lookbackHours * HOUR_MS), schedule);
  const committedGeneration = config.token.generation;
  const generation = request.bumpGeneration ? committedGeneration + 1 : committedGeneration;

  let due: boolean;
  let reason: string;
  if (request.bumpGeneration) {
    due = true;
    reason = `emergency rotation: rotationGeneration ${committedGeneration} -> ${generation} forces a new token`;
  } else if (request.force) {
    due = true;
    reason = "applied on request (manual dispatch)";
  } else if (!hasDeployToken) {
    due = false;
    reason = "no deploy token (codeDeployedBy is pulumi): nothing to rotate";
  } else if (current.index !== before.index) {
    due = true;
    reason = `the rotation window rolled over at ${toRfc3339(current.start)}, within the last ${lookbackHours} h`;
  } else {
    due = false;
    reason = `no window rollover in the last ${lookbackHours} h; next rotation ${toRfc3339(current.nextRotation)}`;
  }
  return {
    stack: config.stack,
    due,
    reason,
    hasDeployToken,
    windowStart: toRfc3339(current.start),
    nextRotation: toRfc3339(current.nextRotation),
    expiresOn: toRfc3339(current.expiresOn),
    committedGeneration,
    generation,
  };
}
