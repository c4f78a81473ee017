/**
 * bin/app.ts, the deployable app, synthesized in a child process the way `cdk synth` runs it,
 * with no AWS credentials, region or profile in the environment (offline synth).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

async function synth(extraEnv: Record<string, string> = {}) {
  const out = mkdtempSync(join(tmpdir(), 'gw-synth-'));
  // Only what node needs: no AWS_* variables, no credentials file (HOME points at an empty dir).
  const env = { PATH: process.env.PATH!, HOME: out, CDK_OUTDIR: join(out, 'cdk.out'), ...extraEnv };
  try {
    await run(process.execPath, ['-r', '@swc-node/register', 'bin/app.ts'], { cwd: ROOT, env, timeout: 60_000 });
    const template = JSON.parse(readFileSync(join(out, 'cdk.out', 'AiGateway.template.json'), 'utf8'));
    return { template, files: readdirSync(join(out, 'cdk.out')) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe('bin/app.ts', () => {
  test('synthesizes the default gateway offline, without credentials', async () => {
    const { template, files } = await synth();
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::ApiGateway::RestApi',
        'AWS::Lambda::Function',
        'AWS::DynamoDB::Table',
        'AWS::KinesisFirehose::DeliveryStream',
        'AWS::Glue::Table',
      ]),
    );
    expect(files.some((f) => f.startsWith('asset.'))).toBe(true);
    const secrets = Object.values(template.Resources as Record<string, { Type: string; Properties: { Name?: string } }>).filter(
      (r) => r.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets.map((s) => s.Properties.Name).sort()).toEqual(['ai-gateway/anthropic', 'ai-gateway/openai']);
  }, 90_000);

  test('a bad gateway.aws.json stops synth with every problem named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'gateway.aws.json');
    writeFileSync(file, JSON.stringify({ providers: { openai: { type: 'openai', apiKey: { env: 'OPENAI_API_KEY' } }, x: { type: 'nope' } } }));
    try {
      await expect(synth({ GATEWAY_AWS_CONFIG: file })).rejects.toMatchObject({
        stderr: expect.stringMatching(
          /Invalid AiGateway props:[\s\S]*config: providers\.x\.type must be one of[\s\S]*config: providers\.openai\.apiKey reads the environment variable OPENAI_API_KEY/,
        ),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
