/** GET /v1/models/{id}: one configured model this key may call (the official SDKs' `models.retrieve`). */
import { jsonResponse } from '../buffered-response';
import { defineEndpoint } from '../endpoint';
import { errors } from '../errors';
import { modelAllowed } from '../keys';
import { gatewayHeaders } from '../respond';
import type { GatewayServices } from '../services';
import { pathOf } from '../url-path';
import { modelObject } from './models';

export const modelEndpoint = (s: GatewayServices) =>
  defineEndpoint<undefined>({
    method: 'GET',
    path: '/v1/models/{id*}',
    async handle(ctx) {
      const key = ctx.key!;
      // A model id may hold '/' (provider/model), sent as is or percent-encoded.
      let id: string;
      try {
        id = decodeURIComponent(pathOf(ctx.request.url).replace(/\/+$/, '').slice('/v1/models/'.length));
      } catch {
        throw errors.badRequest('The model id in the path is not valid percent-encoding.', 'model');
      }
      // The model named in the path (this endpoint has no body for the parse stage to read it from).
      ctx.requestedModel = id;
      // A model the key may not call is as absent as one that does not exist: its name says nothing.
      if (!modelAllowed(key, id)) throw errors.unknownModel(id);
      return jsonResponse(modelObject(s, id), 200, gatewayHeaders(s, ctx));
    },
  });
