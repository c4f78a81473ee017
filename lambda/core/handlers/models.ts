/** GET /v1/models: the configured models this key may call. */
import { jsonResponse } from '../buffered-response';
import { modelAllowed } from '../keys';
import type { Pipeline } from '../pipeline';
import type { Handler } from './types';

export function modelsHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    const data = p.catalog
      .names()
      .filter((name) => modelAllowed(key, name))
      .map((id) => ({ id, object: 'model', created: 0, owned_by: p.catalog.route(id).targets[0].provider.name }));
    return jsonResponse({ object: 'list', data }, 200, { 'x-request-id': ctx.id });
  };
}
