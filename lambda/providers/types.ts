/**
 * What a provider folder works with: the canonical wire types (apischema/openai) and the provider
 * port the core defines (core/provider), in one import. The core never sees a provider's wire
 * format, so adding a provider touches only its own folder.
 */
export type * from '../apischema/openai';
export {
  type ChatResult,
  type NativeAnswer,
  type NativeFormat,
  type NativeMessagesAnswer,
  type NativeMessagesRequest,
  type NativeRequest,
  type NativeResponsesAnswer,
  type NativeResponsesRequest,
  type ProviderAdapter,
  type ProviderCall,
  type ProviderRegistry,
  type ResolvedProvider,
  UpstreamError,
  type UpstreamFailureKind,
} from '../core/provider';
