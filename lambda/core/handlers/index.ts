/**
 * The endpoints, each the innermost handler of the stage list. Adding one is a file in this folder
 * exporting an endpoint factory, and one line here.
 */
import type { Endpoint } from '../endpoint';
import type { GatewayServices } from '../services';
import { chatCompletionsEndpoint } from './chat-completions';
import { countTokensEndpoint } from './count-tokens';
import { embeddingsEndpoint } from './embeddings';
import { messagesEndpoint } from './messages';
import { modelEndpoint } from './model';
import { modelsEndpoint } from './models';
import { responsesEndpoints } from './responses';

/** One endpoint, or several that share state (the Responses API's create, get, delete and input items share its store). */
export type EndpointFactory = (services: GatewayServices) => Endpoint | readonly Endpoint[];

export const ENDPOINTS: readonly EndpointFactory[] = [
  chatCompletionsEndpoint,
  embeddingsEndpoint,
  modelsEndpoint,
  modelEndpoint,
  messagesEndpoint,
  countTokensEndpoint,
  responsesEndpoints,
];
