/**
 * JSON with comments, for config files people write by hand (`gateway.config.json`, examples/):
 * `//` and `/* … *\/` comments outside strings are blanked, then the text is parsed as JSON. One
 * pass, linear in the input; positions are kept (comments become spaces, line breaks stay), so a
 * syntax error's position still points into the file as written.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let copiedTo = 0;
  const blank = (from: number, to: number) => {
    out += text.slice(copiedTo, from) + text.slice(from, to).replace(/[^\n]/g, ' ');
    copiedTo = to;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      // Skip the string, honouring escapes.
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const to = end === -1 ? text.length : end;
      blank(i, to);
      i = to;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const to = end === -1 ? text.length : end + 2;
      blank(i, to);
      i = to;
    } else i++;
  }
  return out + text.slice(copiedTo);
}

export function parseJsonc(text: string): unknown {
  return JSON.parse(stripJsonComments(text));
}
