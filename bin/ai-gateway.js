#!/usr/bin/env node
// Thin launcher for the prebuilt CLI bundle (built by `npm run build`).
const { main } = require('../dist/cli.js');
main(process.argv.slice(2)).then((code) => {
  if (code !== 0 || process.argv[2] !== 'dev') process.exitCode = code;
});
