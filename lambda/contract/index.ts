/**
 * The contract between the constructs (lib/) and the runtime (lambda/): environment variable names,
 * table layouts, metric names, the request log's schema and saved queries, the admin routes and
 * the routing config's schema. lib/ imports only this module (and CDK), so synth never loads the
 * gateway's runtime (its router, providers, stores or adapters).
 */
export * from './admin-routes';
export * from './bedrock-model-ids';
export * from './config';
export * from './env';
export * from './log-queries';
export * from './log-schema';
export * from './metrics';
export * from './tables';
