/**
 * The request path, in order (ARCHITECTURE §1, §11). Every endpoint runs through this one list; the
 * first stage is outermost, the endpoint's handler is innermost.
 *
 *   log            one record after the response's end (JSON, stream, error, client gone); renders errors
 *   identify       the virtual key (later: or a JWT) → ctx.key
 *   parse          the endpoint's body → ctx.requestBody, ctx.call (model, estimates, canonical request)
 *   authorize      the route the model names, and whether the key may use it → ctx.route
 *   input guard    check or redact ctx.call.request before anything is reserved or sent → ctx.guardSet
 *   limits         reserve before next(), settle or release at the response's end → ctx.reservation
 *   cache          look up before next() (a hit answers without calling next), store from an onEnd
 *                  hook once the answer completed → ctx.cache
 *   output guard   check what the handler answers (ctx.filterAnswer) before the cache stores or the client sees it
 *   endpoint handler (handlers/): translate, call the router, respond
 *
 * Adding a stage: one file in this folder exporting a StageFactory, and one line below where it
 * belongs. A stage that needs the end of the response (a stream's last byte included) registers
 * `ctx.onEnd(hook)` before calling `next()`; what it learns goes on a typed RequestContext field.
 *
 * Adding an endpoint: one file in handlers/ exporting an Endpoint (method, path, parse, handle) and
 * one line in handlers/index.ts; the stages apply to it unchanged.
 */
import { authorizeModelStage } from './authorize-model';
import { cacheStage } from './cache';
import { identifyStage } from './identify';
import { inputGuardStage } from './input-guard';
import { limitsStage } from './limits';
import { logStage } from './log';
import { outputGuardStage } from './output-guard';
import { parseStage } from './parse';
import type { StageFactory } from './stage';

export const STAGES: readonly StageFactory[] = [
  logStage, // outermost: sees every answer and every error
  identifyStage,
  parseStage,
  authorizeModelStage,
  inputGuardStage,
  limitsStage,
  cacheStage,
  outputGuardStage,
];

export { type Next, type Stage, type StageFactory, compose } from './stage';
