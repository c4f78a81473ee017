/** GET /v1/models: the configured models this key may call. */
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
    return new Response(JSON.stringify({ object: 'list', data }), { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': ctx.id } });
  };
}
