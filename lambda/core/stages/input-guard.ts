/**
 * The prompt guard on the way in (ARCHITECTURE §14): the policies of the request's route (else the
 * settings' default) and of its key both apply. Runs after the model is authorized and before
 * anything is reserved or sent, so a blocked request takes nothing from the key's limits and calls
 * no provider: 400 guardrail_blocked in the endpoint's error shape, naming policy and rule, never
 * the matched text. A redaction replaces ctx.call's request, so the upstream receives the redacted
 * text. The policies found here (ctx.guardSet) are the output guard's too.
 */
import type { ModelCall } from '../endpoint';
import { GatewayError, errors } from '../errors';
import { guardEmbeddingsInput, guardMessagesInput } from '../guard/apply';
import { type GuardAction, GuardBlocked, GuardSet, guardBlockedError, policiesFor } from '../guard/engine';
import { NO_GUARD } from '../guard/policy';
import type { KeyRecord } from '../keys';
import type { GatewayServices } from '../services';
import { nativeFor } from '../upstream-call';
import type { StageFactory } from './stage';

/** The guard policies of a request: its route's (else the settings' default) and its key's; both apply. */
export function guardSetFor(s: GatewayServices, key: KeyRecord, model: string): GuardSet {
  const routes = s.config.models;
  const settingsGuard = s.config.settings?.guard;
  const routeGuard = routes && Object.hasOwn(routes, model) ? (routes[model].guard ?? settingsGuard) : settingsGuard;
  // Fail closed: a key whose policy the config no longer defines must not run unguarded.
  if (key.guard && key.guard !== NO_GUARD && !s.guardPolicies.has(key.guard))
    throw new GatewayError({
      status: 500,
      type: 'api_error',
      code: 'guard_policy_unknown',
      message: `This API key names the guard policy '${key.guard}', which the gateway's config does not define. Ask the gateway's operators to fix the key or the config.`,
    });
  return new GuardSet(policiesFor(s.guardPolicies, [routeGuard, key.guard]), s.deps.guardrails);
}

/**
 * The call with its request checked, and redacted where a policy says so (else the call as it was);
 * throws GuardBlocked. `sendsNative`: some target of the route takes the client's native body.
 */
async function guardCall(call: ModelCall, guard: GuardSet, actions: GuardAction[], sendsNative: boolean): Promise<ModelCall> {
  let checked: ModelCall;
  if (call.kind === 'embeddings') checked = { ...call, request: await guardEmbeddingsInput(call.request, guard, actions) };
  else {
    // Chat-shaped calls (chat completions, messages, responses); a native body (/v1/messages,
    // /v1/responses) is redacted too, when a target may be sent it (else it is dropped: it never leaves).
    const { request, native } = await guardMessagesInput(call.request, sendsNative ? call.native : undefined, guard, actions);
    checked = { ...call, request, native };
  }
  return actions.some((a) => a.where === 'input' && a.action === 'redact') ? checked : call;
}

export const inputGuardStage: StageFactory = (s) => async (ctx, next) => {
  const { call, key } = ctx;
  // A gateway without policies, and a key naming none, pay nothing here.
  if (!call || !key || (s.guardPolicies.size === 0 && !key.guard)) return next();
  const guard = guardSetFor(s, key, call.model);
  ctx.guardSet = guard;
  if (!guard.active('input')) return next();
  try {
    const native = call.kind === 'chat' ? call.native : undefined;
    const sendsNative = !!native && !!ctx.route?.targets.some((t) => nativeFor(s, t, native));
    const checked = await guardCall(call, guard, ctx.guard, sendsNative);
    // The client's body (ctx.requestBody) stays as sent: the cache keys on it and the record keeps it per the key's logging policy.
    if (checked !== call) ctx.call = checked;
  } catch (err) {
    if (err instanceof GuardBlocked) throw guardBlockedError(err);
    if (err instanceof GatewayError) throw err;
    // The guardrail service failed: fail closed, the request is not sent unchecked.
    s.logger.error('guard check failed', { error: String(err), requestId: ctx.id });
    throw errors.unavailable('The gateway could not run its guardrail check on this request. Retry shortly.', 1, 'guardrail_unavailable');
  }
  return next();
};
