/**
 * The endpoint's JSON body, read within the size limit and validated by the endpoint (ctx.call).
 * The body and its model are noted for the record before validation can reject the rest.
 */
import { readJsonObject } from '../body';
import { endUserOf } from '../identity/identify';
import type { StageFactory } from './stage';

export const parseStage: StageFactory = (s) => async (ctx, next) => {
  const parse = ctx.endpoint?.parse;
  if (!parse) return next();
  const raw = await readJsonObject(ctx.request, s.maxBodyBytes);
  ctx.requestBody = raw;
  if (typeof raw.model === 'string') ctx.requestedModel = raw.model;
  if (ctx.identity) ctx.userId = endUserOf(ctx.identity, ctx.request.headers, raw);
  if (ctx.endpoint?.streams) ctx.stream = raw.stream === true;
  ctx.call = await parse(raw, ctx);
  return next();
};
