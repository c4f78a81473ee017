/** Narrow ports for state and side effects. The core gets implementations injected; tests pick real ones. */
import type { SecretRef } from './config';
import type { KeyRecord } from './keys';
import type { RequestLogRecord } from './log-record';

/** Resolves provider credentials. Local: environment; AWS: Secrets Manager with a cache. */
export interface SecretSource {
  /**
   * The credential `ref` names. When it cannot be had, reject with a message that names the
   * variable or secret to set and never a value: the client's 502 provider_credentials_unavailable
   * and the start-up warning carry it.
   */
  get(ref: SecretRef): Promise<string>;
  /** Drop a cached value (after the provider rejected it), so the next get reads it fresh. */
  refresh?(ref: SecretRef): void;
}

export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** What a request is expected to consume, for reservation. */
export interface UsageEstimate {
  readonly tokens: number;
  readonly costUsd: number;
  /** A target of the route with no price (`provider/model`): a USD budget cannot count its spend. */
  readonly unpricedTarget?: string;
}

/** What a request really consumed, for settlement. */
export interface ActualUsage {
  readonly tokens: number;
  readonly costUsd: number;
}

/** A held reservation. `headers` are the rate-limit headers to send on the response. */
export interface Reservation {
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Limits and budgets (ARCHITECTURE §8). reserve() throws a GatewayError (429/503) when the request
 * may not go ahead; every successful reserve is followed by exactly one settle() or release().
 */
export interface Limiter {
  /** `endUser` puts the request under the key's `limits.perUser` for that user as well. */
  reserve(key: KeyRecord, estimate: UsageEstimate, requestId: string, endUser?: string): Promise<Reservation>;
  settle(reservation: Reservation, actual: ActualUsage): Promise<void>;
  release(reservation: Reservation): Promise<void>;
  /**
   * Rate-limit headers from what this instance last saw of the key's counters, without a store
   * call: for answers that end before a reservation (bad request, model not allowed).
   */
  peekHeaders?(key: KeyRecord): Readonly<Record<string, string>>;
  /** Give back capacity held ahead of requests (leases) before the process exits. */
  shutdown?(): Promise<void>;
}

/** The limiter used when no counter store is configured: admits everything, sends no headers. */
export const unlimited: Limiter = {
  async reserve() {
    return { headers: {} };
  },
  async settle() {},
  async release() {},
};

/** One request's metrics: its log record, and what the router counted as it happened. */
export interface RequestMetrics {
  readonly record: RequestLogRecord;
  /** The router tried, passed over or served from a target other than the first. */
  readonly fellBack: boolean;
  /** The router passed over a target that was cooling down (or being probed by another request). */
  readonly skippedCooling: boolean;
}

/** Where each request's metrics go, once per request after its record (AWS: EMF lines; locally: none). */
export interface MetricsPublisher {
  publish(metrics: RequestMetrics): void;
}
