/** Provider type → adapter: the registry the composition roots hand to the core. Bedrock's SDK is loaded on first use (dynamic import), not with this module. */
import { anthropicProvider } from './anthropic';
import { azureOpenAiProvider } from './azure-openai';
import { bedrockProvider } from './bedrock';
import { geminiProvider } from './gemini';
import { mockProvider } from './mock';
import { openAiProvider } from './openai';
import { openAiCompatibleProvider } from './openai-compatible';
import type { ProviderRegistry } from './types';

export type { ProviderRegistry };

export const builtinProviders: ProviderRegistry = {
  openai: openAiProvider,
  'openai-compatible': openAiCompatibleProvider,
  mock: mockProvider,
  anthropic: anthropicProvider,
  gemini: geminiProvider,
  'azure-openai': azureOpenAiProvider,
  bedrock: bedrockProvider,
};
