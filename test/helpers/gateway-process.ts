/**
 * The gateway and its CLI as real child processes, exactly as a user runs them: `bin/ai-gateway.js`
 * (the package's bin), which loads the bundle `npm start` / `npm test` build into dist/cli.js.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
export const BIN = join(ROOT, 'bin/ai-gateway.js');

function requireBuiltCli(): void {
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build:cli` (npm test builds it first)');
}

/** A minimal environment: nothing from the developer's shell (no real provider keys, no GATEWAY_*). */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_NO_WARNINGS: '1', ...extra };
}

export interface GatewayProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Send a signal and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Start `ai-gateway dev` and wait until it prints where it listens. */
export async function startGatewayProcess(env: Record<string, string | undefined>, timeoutMs = 15_000): Promise<GatewayProcess> {
  requireBuiltCli();
  const proc = spawn(process.execPath, [BIN, 'dev'], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    proc.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
  return {
    url,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `ai-gateway <args>` to completion. */
export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 15_000): Promise<CliResult> {
  requireBuiltCli();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
