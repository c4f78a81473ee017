/**
 * A stage is one cross-cutting concern of the request path, applied to every endpoint:
 * `(ctx, next) => Promise<Response>`, the concern before `next()` and the concern after it in one
 * function (the shape of Powertools' router middleware). The endpoint handler is the innermost
 * `next`.
 */
import type { RequestContext } from '../request-context';
import type { GatewayServices } from '../services';

export type Next = () => Promise<Response>;

/**
 * A stage with nothing to await may be a plain function returning `next()`, and may throw before
 * it returns (each async wrapper costs the request a promise and its ticks): the caller is always an
 * async stage (the log stage is outermost), which turns the throw into its rejection.
 */
export type Stage = (ctx: RequestContext, next: Next) => Promise<Response>;

/** A stage is built once per gateway from the gateway's services. */
export type StageFactory = (services: GatewayServices) => Stage;

/** The innermost step: the endpoint's handler. */
export type Innermost = (ctx: RequestContext) => Promise<Response>;

/** Stages in order (the first is outermost) around `innermost`, as one function; built once, not per request. */
export function compose(stages: readonly Stage[], innermost: Innermost): Innermost {
  let run = innermost;
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i];
    const inner = run;
    run = (ctx) => stage(ctx, () => inner(ctx));
  }
  return run;
}
