/**
 * Amazon Bedrock Guardrails for the prompt guard, through the ApplyGuardrail API of the
 * bedrock-runtime SDK (loaded lazily, like the Bedrock provider's client, so gateways without a
 * guardrail never load it). One call checks all of a request's checked texts (source INPUT), or
 * one released stream window / one JSON answer's texts (source OUTPUT).
 *
 * The outcome: any assessment whose action is BLOCKED blocks; an intervention that only masked
 * (ANONYMIZED PII) redacts with the guardrail's own output text. A failed call fails closed: the
 * request gets an error rather than passing unchecked.
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { GuardrailOutcome, GuardrailService, GuardrailSource } from '../core/guard/engine';
import type { BedrockGuardrailConfig } from '../core/guard/policy';
import { loadBedrockSdk } from '../providers/bedrock/client';

export interface BedrockGuardrailsOptions {
  /** Region of guardrails that name none. @default $AWS_REGION, else us-east-1 */
  readonly defaultRegion?: string;
  /** Endpoint override (tests: a local fake of the bedrock-runtime API). */
  readonly endpoint?: string;
}

/** Whether an assessment (any policy inside it, at any depth) has an entry whose action is BLOCKED. */
function anyBlocked(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => anyBlocked(v, depth + 1));
  const o = value as Record<string, unknown>;
  if (o.action === 'BLOCKED' && (o.detected === undefined || o.detected === true)) return true;
  return Object.values(o).some((v) => anyBlocked(v, depth + 1));
}

export function bedrockGuardrails(opts: BedrockGuardrailsOptions = {}): GuardrailService {
  const clients = new Map<string, BedrockRuntimeClient>();
  const clientFor = async (region: string) => {
    const sdk = await loadBedrockSdk();
    let client = clients.get(region);
    if (!client) {
      client = new sdk.BedrockRuntimeClient({ region, maxAttempts: 2, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
      clients.set(region, client);
    }
    return { client, sdk };
  };

  async function applyOnce(g: BedrockGuardrailConfig, source: GuardrailSource, texts: readonly string[]) {
    const { client, sdk } = await clientFor(g.region ?? opts.defaultRegion ?? process.env.AWS_REGION ?? 'us-east-1');
    return client.send(
      new sdk.ApplyGuardrailCommand({
        guardrailIdentifier: g.id,
        guardrailVersion: g.version,
        source,
        content: texts.map((text) => ({ text: { text } })),
      }),
    );
  }

  return {
    async apply(g, source, texts): Promise<GuardrailOutcome> {
      const out = await applyOnce(g, source, texts);
      if (out.action !== 'GUARDRAIL_INTERVENED') return { action: 'none' };
      if (anyBlocked(out.assessments)) return { action: 'block' };
      const outputs = (out.outputs ?? []).map((o) => o.text ?? '');
      if (outputs.length === texts.length) return { action: 'redact', texts: outputs };
      // The guardrail answered with one masked text for several inputs: mask each on its own.
      if (texts.length > 1) {
        const each = await Promise.all(texts.map((t) => this.apply(g, source, [t])));
        if (each.some((e) => e.action === 'block')) return { action: 'block' };
        return { action: 'redact', texts: each.map((e, i) => (e.action === 'redact' ? e.texts[0] : texts[i])) };
      }
      // An intervention with nothing to show for it: treat as a block rather than pass the text unmasked.
      return { action: 'block' };
    },
  };
}

/** Whether a config's guard policies name any Bedrock guardrail (the composition roots create the service only then). */
export function usesBedrockGuardrails(guards: Readonly<Record<string, { bedrockGuardrail?: unknown }>> | undefined): boolean {
  return Object.values(guards ?? {}).some((p) => p.bedrockGuardrail !== undefined);
}
