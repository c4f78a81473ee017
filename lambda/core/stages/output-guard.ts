/**
 * The prompt guard on the way out (ARCHITECTURE §14), on the canonical answer before the endpoint
 * encodes it, so chat completions, messages and responses share it, JSON and streams alike:
 * - a whole answer: each choice's text and tool-call arguments checked; a blocked choice is withheld
 *   (`finish_reason: "content_filter"`: `stop_reason: "refusal"` on messages, `status: "incomplete"`
 *   on responses), redacted text replaces the original;
 * - a stream: text held back in a window (guard/stream.ts) so a match split across chunks is still
 *   caught and released as soon as it is safe; a block ends the stream with an in-band
 *   guardrail_blocked error event and no end marker.
 * The policies are the ones the input guard found (ctx.guardSet).
 */
import { guardChatOutput } from '../guard/apply';
import { guardPeekedStream } from '../guard/stream';
import type { StageFactory } from './stage';

export const outputGuardStage: StageFactory = () => (ctx, next) => {
  const guard = ctx.guardSet;
  if (!guard?.active('output') || ctx.call?.kind !== 'chat') return next();
  ctx.filterAnswer({
    json: (answer) => guardChatOutput(answer, guard, ctx.guard),
    stream: (answer) => guardPeekedStream(answer, guard, ctx.guard),
  });
  return next();
};
