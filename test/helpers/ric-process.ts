/**
 * A function run the way Lambda's managed Node.js runtime runs it: a child process executing the
 * real runtime interface client (`aws-lambda-ric`), which loads the handler from the task root,
 * polls the Runtime API for invocations and streams responses back to it.
 *
 * The client's next-invocation call goes through its native addon, which the package builds in
 * its install scripts. Where that addon is absent, the client's own JavaScript HTTP client is used
 * instead (see ric-without-native-client.cjs); `nativeClient` says which one ran.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const RIC_DIR = resolve(__dirname, '../../node_modules/aws-lambda-ric');
const RIC_ENTRY = join(RIC_DIR, 'index.mjs');

/**
 * Whether the runtime client's native addon (built by its install scripts) is used. Set
 * RIC_JS_CLIENT=1 to run the JavaScript client even where the addon exists.
 */
export const RIC_NATIVE_CLIENT = existsSync(join(RIC_DIR, 'rapid-client.node')) && process.env.RIC_JS_CLIENT !== '1';

export interface RicFunction {
  /** Lines the function wrote to stdout (its logs and EMF metric documents), as they came. */
  readonly stdout: string[];
  readonly stderr: string[];
  readonly nativeClient: boolean;
  /** Resolves with the exit code once the process ended (by itself or by stop()). */
  readonly exited: Promise<number | null>;
  /** `pending`, or a clear error (with the function's stderr) if the process ends first. */
  whileRunning<T>(pending: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export function startUnderRic(opts: {
  /** The directory holding the function's code (Lambda's LAMBDA_TASK_ROOT). */
  taskRoot: string;
  /** `file.export`, Lambda's _HANDLER. @default 'index.handler' */
  handler?: string;
  /** host:port of the Runtime API. */
  runtimeApi: string;
  /** The function's configured environment. */
  env: Record<string, string>;
}): RicFunction {
  if (!existsSync(RIC_ENTRY)) throw new Error(`${RIC_ENTRY} is missing: aws-lambda-ric is a devDependency (npm ci installs it)`);
  const preload = RIC_NATIVE_CLIENT ? [] : ['--require', join(__dirname, 'ric-without-native-client.cjs')];
  const child: ChildProcess = spawn(process.execPath, [...preload, RIC_ENTRY], {
    cwd: opts.taskRoot,
    // A Lambda environment: only what the platform and the function's configuration set.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_LAMBDA_RUNTIME_API: opts.runtimeApi,
      LAMBDA_TASK_ROOT: opts.taskRoot,
      _HANDLER: opts.handler ?? 'index.handler',
      AWS_LAMBDA_FUNCTION_NAME: 'gateway-function',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/gateway-function',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      into.push(...parts);
    };
  };
  child.stdout!.on('data', lines(stdout));
  child.stderr!.on('data', lines(stderr));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    stdout,
    stderr,
    nativeClient: RIC_NATIVE_CLIENT,
    exited,
    whileRunning(pending) {
      const died = exited.then((code) => {
        throw new Error(`the function's process exited (code ${code}) before the invocation finished:\n${stderr.join('\n')}`);
      });
      return Promise.race([pending, died]);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
