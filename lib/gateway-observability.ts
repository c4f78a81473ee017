import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LIMITS_METRIC_NAMESPACE, type LimitsMetric } from '../lambda/contract';
import type { ProxyApi } from './proxy-api';
import type { IRequestLog } from './request-log';

export interface GatewayObservabilityProps {
  /** The proxy API: 5xx rate, latency and the gateway's own metrics. */
  readonly proxy: ProxyApi;
  /** Functions whose errors and throttles are alarmed, by a short name used in alarm ids (e.g. Proxy, Admin). The first one's duration is on the dashboard. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Tables whose throttle events are alarmed. */
  readonly tables: readonly dynamodb.ITable[];
  /** The request log whose Firehose delivery is alarmed. */
  readonly requestLog: IRequestLog;
  /**
   * Topic every alarm notifies (on ALARM and back to OK).
   * @default - alarms without actions (visible in the console and the dashboard)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Share of proxy requests answered 5xx, over 5 minutes, that raises the alarm.
   * @default 0.05
   */
  readonly serverErrorRateThreshold?: number;
  /**
   * Show the response cache on the dashboard (hit rate, savings, failed lookups) and alarm on
   * failed lookups; set when the config turns a cache on.
   * @default false
   */
  readonly cache?: boolean;
  /**
   * Dashboard name.
   * @default - generated
   */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(5);

/** A limiter metric, emitted by this gateway's proxy as EMF with its `Gateway` dimension. */
const limitsMetric = (name: LimitsMetric, gatewayId: string) =>
  new cloudwatch.Metric({ namespace: LIMITS_METRIC_NAMESPACE, metricName: name, dimensionsMap: { Gateway: gatewayId }, statistic: 'Sum', period: PERIOD });

/**
 * Alarms on what breaks a gateway (5xx rate, function errors and throttles, log delivery
 * failures, DynamoDB throttles, a limits store the proxy cannot use) and one dashboard with
 * traffic, latency, errors and log delivery.
 */
export class GatewayObservability extends Construct {
  public readonly alarms: cloudwatch.IAlarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: GatewayObservabilityProps) {
    super(scope, id);
    const alarm = (
      aid: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) => {
      const a = new cloudwatch.Alarm(this, aid, {
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: 1,
        alarmDescription: description,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) {
        a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
        a.addOkAction(new cwActions.SnsAction(props.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };

    alarm(
      'ServerErrorRate',
      props.proxy.metricServerErrorRate(),
      props.serverErrorRateThreshold ?? 0.05,
      'Proxy API: share of 5xx answers over 5 minutes (all targets failed, or the gateway itself failed)',
    );
    const functions = Object.entries(props.functions);
    if (!functions.length) throw new Error('Invalid GatewayObservability props:\n  - functions: needs at least the proxy function');
    functions.forEach(([name, fn]) => {
      alarm(`${name}Errors`, fn.metricErrors({ statistic: 'Sum', period: PERIOD }), 1, `Lambda invocation errors (crashes, timeouts) of ${fn.node.path}`);
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ statistic: 'Sum', period: PERIOD }),
        1,
        `Lambda throttles of ${fn.node.path}: raise the account's concurrency limit or the stage throttling`,
      );
    });
    alarm(
      'LogDeliveryFailures',
      props.requestLog.metricDeliverySuccess({ statistic: 'Minimum' }),
      1,
      'Firehose could not deliver request log records to S3 (they are retried, then written to errors/)',
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
    // The counter table failing: budgets (and rpm/tpm with rateLimitFailMode 'closed') answer 503,
    // or with 'open' requests pass unmetered. Either way someone should know within 5 minutes.
    alarm(
      'LimitsUnavailable',
      limitsMetric('LimitsUnavailable', props.proxy.metricsGatewayId),
      1,
      'The proxy could not read or write the limits counter table: keys with budgets were refused with 503 (fail closed), rpm/tpm followed settings.rateLimitFailMode',
    );
    alarm(
      'RateLimitFailOpen',
      limitsMetric('RateLimitFailOpen', props.proxy.metricsGatewayId),
      1,
      "Requests passed without rpm/tpm enforcement because the counter table failed (settings.rateLimitFailMode: 'open')",
    );
    props.tables.forEach((table, i) => {
      const throttles = new cloudwatch.MathExpression({
        expression: 'r + w',
        usingMetrics: {
          r: table.metric('ReadThrottleEvents', { statistic: 'Sum', period: PERIOD }),
          w: table.metric('WriteThrottleEvents', { statistic: 'Sum', period: PERIOD }),
        },
        label: 'Throttle events',
        period: PERIOD,
      });
      alarm(`Table${i}Throttles`, throttles, 1, `DynamoDB throttle events on ${table.node.path}`);
    });

    const proxyFn = functions[0][1];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Requests', left: [props.proxy.metricRequests()], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Error rates', left: [props.proxy.metricServerErrorRate(), props.proxy.metricClientErrorRate()], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Latency to first byte (p50 / p95 / p99)',
        left: ['p50', 'p95', 'p99'].map((s) => props.proxy.metricIntegrationLatency({ statistic: s, label: s })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Proxy function duration (p95)', left: [proxyFn.metricDuration({ statistic: 'p95', period: PERIOD })], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: functions.flatMap(([name, fn]) => [
          fn.metricErrors({ period: PERIOD, label: `${name} errors` }),
          fn.metricThrottles({ period: PERIOD, label: `${name} throttles` }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Request log delivery',
        left: [props.requestLog.metricIncomingRecords()],
        right: [props.requestLog.metricDeliverySuccess()],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Tokens', left: [props.proxy.metricTokens({ label: 'Tokens' })], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Spend (USD)', left: [props.proxy.metricCostUsd({ label: 'USD' })], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Requests needing fallback',
        left: [
          props.proxy.metricGateway('Fallbacks', { label: 'Fallbacks' }),
          props.proxy.metricGateway('CooldownSkips', { label: 'Skipped a cooling target' }),
          props.proxy.metricGateway('Errors', { label: '5xx' }),
        ],
        width: 8,
      }),
    );
    if (props.cache) {
      const hits = props.proxy.metricGateway('CacheHits', { label: 'Hits' });
      const misses = props.proxy.metricGateway('CacheMisses', { label: 'Misses' });
      const cacheErrors = props.proxy.metricGateway('CacheErrors', { label: 'Failed lookups (bypassed)' });
      // A cache that keeps failing costs every request its lookup timeout and saves nothing.
      alarm(
        'CacheErrors',
        props.proxy.metricGateway('CacheErrors'),
        10,
        'Response cache lookups failing (store or embeddings route); requests are served uncached',
      );
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Cache hit rate',
          left: [
            new cloudwatch.MathExpression({
              expression: 'IF(h + m > 0, h / (h + m), 0)',
              usingMetrics: { h: hits, m: misses },
              label: 'Hit rate',
              period: PERIOD,
            }),
          ],
          leftYAxis: { min: 0, max: 1 },
          width: 8,
        }),
        new cloudwatch.GraphWidget({ title: 'Cache savings (USD)', left: [props.proxy.metricGateway('CacheSavedUsd', { label: 'Saved USD' })], width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Cache lookups', left: [hits, misses, cacheErrors], width: 8 }),
      );
    }
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
