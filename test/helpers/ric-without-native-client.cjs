/**
 * Preloaded (`node --require`) into a function run under aws-lambda-ric when the package's native
 * addon (rapid-client.node, built by its install scripts) is absent. The runtime client then asks
 * for the next invocation over its own JavaScript HTTP client (the documented
 * AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1 switch); streamed responses never use the addon.
 * Only the addon's loading is replaced: every other part of the runtime client runs as shipped.
 */
const Module = require('node:module');

process.env.AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1 = 'true';
const unavailable = (what) => () => {
  throw new Error(`aws-lambda-ric native client is not built: ${what}() is unavailable`);
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === './rapid-client.node' && /aws-lambda-ric/.test(String(parent && (parent.filename || parent.id)))) {
    return { next: unavailable('next'), done: unavailable('done'), error: unavailable('error') };
  }
  return load.call(this, request, parent, isMain);
};
