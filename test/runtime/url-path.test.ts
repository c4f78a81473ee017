/** pathOf reads the path of an already-serialised URL exactly as WHATWG parsing would. */
import { pathOf } from '../../lambda/core/url-path';

const urls = [
  'http://localhost/v1/chat/completions',
  'http://localhost/',
  'http://localhost',
  'http://localhost/v1/models?limit=2#top',
  'http://localhost/v1/x#frag?not-a-query',
  'http://user:pw@localhost:8787/admin/keys/key_1/rotate',
  'http://[::1]:8787/health',
  'https://abc.execute-api.us-east-1.amazonaws.com/prod/v1/messages?beta=true',
  'http://localhost/a%20b/%2F/../c/./d//',
  'http://localhost/v1/../admin/keys',
  'http://localhost/ünïcode/路径?q=é',
  'http://localhost/?',
];

test.each(urls)('%s', (raw) => {
  const href = new URL(raw).href; // what a Request's url holds
  expect(pathOf(href)).toBe(new URL(href).pathname);
});
