/** GET /v1/models/{id}: one configured model this key may call (the official SDKs' `models.retrieve`). */
import { jsonResponse } from '../buffered-response';
import { errors } from '../errors';
import { modelAllowed } from '../keys';
import type { Pipeline } from '../pipeline';
import { pathOf } from '../url-path';
import type { Handler } from './types';

export function modelHandler(p: Pipeline): Handler {
  return async (req, ctx) => {
    const key = await p.authenticate(req, ctx);
    // A model id may hold '/' (provider/model), sent as is or percent-encoded.
    let id: string;
    try {
      id = decodeURIComponent(pathOf(req.url).replace(/\/+$/, '').slice('/v1/models/'.length));
    } catch {
      throw errors.badRequest('The model id in the path is not valid percent-encoding.', 'model');
    }
    ctx.requestedModel = id;
    // A model the key may not call is as absent as one that does not exist: its name says nothing.
    if (!modelAllowed(key, id)) throw errors.unknownModel(id);
    const owner = p.catalog.route(id).targets[0].provider.name;
    return jsonResponse({ id, object: 'model', created: 0, owned_by: owner }, 200, p.gatewayHeaders(ctx));
  };
}
