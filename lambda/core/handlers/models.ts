/** GET /v1/models: the configured models this key may call. */
import { jsonResponse } from '../buffered-response';
import { defineEndpoint } from '../endpoint';
import { modelAllowed } from '../keys';
import type { GatewayServices } from '../services';

/** A configured model as OpenAI's Model object, owned by the provider of its first target. */
export const modelObject = (s: GatewayServices, id: string) => ({ id, object: 'model', created: 0, owned_by: s.catalog.route(id).targets[0].provider.name });

export const modelsEndpoint = (s: GatewayServices) =>
  defineEndpoint<undefined>({
    method: 'GET',
    path: '/v1/models',
    async handle(ctx) {
      const key = ctx.key!;
      const data = s.catalog
        .names()
        .filter((name) => modelAllowed(key, name))
        .map((id) => modelObject(s, id));
      return jsonResponse({ object: 'list', data }, 200, { 'x-request-id': ctx.id });
    },
  });
