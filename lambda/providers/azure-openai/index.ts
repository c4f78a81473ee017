/**
 * Azure OpenAI: OpenAI's wire format on deployment URLs,
 * `{baseUrl}/openai/deployments/{deployment}/{operation}?api-version=…`, authenticated with the
 * `api-key` header; the Responses API natively at `{baseUrl}/openai/v1/responses`. `deployments` maps a route's model name to its deployment (default: the same
 * name), so routes can keep public model names.
 */
import { createOpenAiStyleAdapter, joinUrl } from '../openai/openai-style';
import { type ProviderCall, UpstreamError } from '../types';

/** The latest GA data-plane version (supports stream_options.include_usage). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

export function azureDeployment(call: ProviderCall): string {
  const deployments = call.provider.config.deployments;
  return deployments && Object.hasOwn(deployments, call.model) ? deployments[call.model] : call.model;
}

function azureBase(call: ProviderCall): string {
  const base = call.provider.config.baseUrl;
  if (!base)
    throw new UpstreamError(
      'http',
      `provider '${call.provider.name}' (azure-openai) needs a baseUrl such as https://<resource>.openai.azure.com`,
      500,
      'config',
    );
  return base;
}

/**
 * Azure's Responses API lives on its v1 surface only, `{baseUrl}/openai/v1/responses`: no
 * deployment in the path and no api-version; the deployment is the body's `model`.
 */
export function azureResponsesUrl(call: ProviderCall): string {
  return joinUrl(azureBase(call), 'openai/v1/responses');
}

export function azureUrl(call: ProviderCall, operation: 'chat/completions' | 'embeddings'): string {
  const base = azureBase(call);
  const version = encodeURIComponent(call.provider.config.apiVersion ?? AZURE_DEFAULT_API_VERSION);
  return `${joinUrl(base, `openai/deployments/${encodeURIComponent(azureDeployment(call))}/${operation}`)}?api-version=${version}`;
}

export const azureOpenAiProvider = createOpenAiStyleAdapter({
  url: azureUrl,
  headers: (call) => ({ ...(call.apiKey ? { 'api-key': call.apiKey } : {}), ...call.provider.config.headers }),
  // The deployment in the URL selects the model.
  bodyModel: () => undefined,
  // /v1/responses goes to Azure's Responses API natively, the deployment named in the body.
  responses: { url: azureResponsesUrl, model: azureDeployment },
});
