/**
 * Takes key material and tokens out of text before the harness writes it anywhere a person or a
 * CI artifact store will keep it: reports, attachments, error messages with robot log tails.
 *
 * Two passes. By value: secrets the harness itself knows (keys it generated, tokens it handed out,
 * the run's planted secret) are replaced wherever they appear, whatever their shape. By pattern:
 * what looks like a secret (PEM private keys, bearer tokens, passwords in URLs, `token`/`secret`/
 * `password` fields) is replaced even when nobody registered it, such as a key a robot printed.
 */

/** What a redacted secret is replaced with: says what it was, never any part of it. */
export function redactionMarker(what: string): string {
  return `[redacted: ${what}]`;
}

/** A secret known by value, with the word the marker uses for it. */
export interface KnownSecret {
  value: string;
  /** `private key`, `token`, `planted secret`: shown in the marker. */
  label: string;
}

/**
 * Shorter values are not redacted by value: replacing every "abc" or "1234" in a report would
 * shred it and still protect nothing, as such a value can be guessed.
 */
export const MIN_KNOWN_SECRET_LENGTH = 8;

// Up to the matching END line; a block cut off by a log tail or a truncated message runs to the end
// of the text, so that no half of a key survives. The label may be empty (PKCS#8), a key type
// (RSA, EC, OPENSSH) or ENCRYPTED.
const PEM_PRIVATE_KEY =
  /-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$(?![\s\S]))/g;
// A PuTTY key file's private part.
// Whole lines only: the line after them (Private-MAC) stays.
const PUTTY_PRIVATE_LINES = /^(Private-Lines: \d+)(?:\r?\n[A-Za-z0-9+/=]+\r?$)+/gm;
// `Authorization: Bearer x`, `"authorization": "Basic x"`, `-H 'Authorization: token x'`.
const AUTHORIZATION_HEADER =
  /\b((?:proxy-)?authorization)(["']?\s*[:=]\s*["']?)(?![A-Za-z]*\s*\[redacted)(?:(bearer|basic|token|digest|negotiate)\s+)?[^\s"',;]+/gi;
const BEARER_TOKEN = /\b(bearer)\s+(?!\[redacted)[A-Za-z0-9._~+/-]+=*/gi;
// scheme://user:password@host: the user stays, it says which account was used.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#'"]+):(?!\[redacted)[^\s@/?#'"]+@/gi;
const SECRET_WORD = String.raw`(?:password|passwd|passphrase|token|secret|api[_-]?key)`;
// ?token=x&... in URLs and query strings.
const QUERY_SECRET = new RegExp(String.raw`([?&;][\w.-]*${SECRET_WORD}=)(?!\[redacted)[^&\s"'#]+`, 'gi');
// "client_secret": "x" in JSON (escaped quotes inside the value included).
const JSON_SECRET_FIELD = new RegExp(
  String.raw`("[\w.-]*${SECRET_WORD}"\s*:\s*)"(?!\[redacted)(?:[^"\\]|\\.)*"`,
  'gi',
);
// The same inside a JSON string that holds JSON (a request body in a JSON log line).
const ESCAPED_JSON_SECRET_FIELD = new RegExp(
  String.raw`(\\"[\w.-]*${SECRET_WORD}\\"\s*:\s*)\\"(?!\[redacted)(?:(?!\\").)*\\"`,
  'gi',
);
// MQTT_PASSWORD=x, password: x, api-key = 'x' in config, env dumps and logs. The value must start
// right after the separator's spaces; JSON fields are left to the pattern above.
const KEY_VALUE_SECRET = new RegExp(
  String.raw`\b([\w.-]*${SECRET_WORD})(\s*[=:]\s*)(?!["']?\[redacted)("[^"\n]*"|'[^'\n]*'|[^\s"',;&]+)`,
  'gi',
);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `text` with every known secret and everything shaped like a secret replaced by a marker such as
 * `[redacted: private key]`. Pure; redacting twice changes nothing more.
 */
export function redact(text: string, known: Iterable<KnownSecret> = []): string {
  let out = text;
  // Longest first: a token that contains another known token is replaced whole.
  const values = [...known]
    .filter((secret) => secret.value.length >= MIN_KNOWN_SECRET_LENGTH)
    .sort((a, b) => b.value.length - a.value.length);
  for (const secret of values) {
    if (out.includes(secret.value)) {
      out = out.replace(new RegExp(escapeRegExp(secret.value), 'g'), redactionMarker(secret.label));
    }
  }
  return out
    .replace(PEM_PRIVATE_KEY, redactionMarker('private key'))
    .replace(PUTTY_PRIVATE_LINES, `$1\n${redactionMarker('private key')}`)
    .replace(AUTHORIZATION_HEADER, (_m, name: string, sep: string, scheme: string | undefined) =>
      scheme
        ? `${name}${sep}${scheme} ${redactionMarker('token')}`
        : `${name}${sep}${redactionMarker('token')}`,
    )
    .replace(BEARER_TOKEN, (_m, word: string) => `${word} ${redactionMarker('token')}`)
    .replace(URL_PASSWORD, `$1:${redactionMarker('password')}@`)
    .replace(QUERY_SECRET, (_m, key: string) => `${key}${redactionMarker(fieldKind(key))}`)
    .replace(JSON_SECRET_FIELD, (_m, key: string) => `${key}"${redactionMarker(fieldKind(key))}"`)
    .replace(ESCAPED_JSON_SECRET_FIELD, (_m, key: string) => `${key}\\"${redactionMarker(fieldKind(key))}\\"`)
    .replace(KEY_VALUE_SECRET, (_m, key: string, sep: string, value: string) => {
      const quote = /^["']/.test(value) ? value[0] : '';
      return `${key}${sep}${quote}${redactionMarker(fieldKind(key))}${quote}`;
    });
}

/** The marker's word for a field: `password` for password-like names, else `token` or `secret`. */
function fieldKind(key: string): string {
  const lower = key.toLowerCase();
  if (/pass/.test(lower)) return 'password';
  if (/secret/.test(lower)) return 'secret';
  return /key/.test(lower) ? 'api key' : 'token';
}

/**
 * A copy of `value` with `redactText` applied to every string in it, keys left as they are: for
 * structured output (a JSON report), where redacting the serialised text could cut through its
 * syntax (a key with no END line runs to the end of the text).
 */
export function redactStrings<T>(value: T, redactText: (text: string) => string): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactStrings(item, redactText)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, redactStrings(item, redactText)]),
    ) as T;
  }
  return value;
}
