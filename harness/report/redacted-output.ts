/**
 * The worker side's choke points for what a drill hands to the report: every attachment, every
 * annotation and error, and everything printed to the worker's stdout and stderr (which Playwright
 * forwards into the JSON report and Allure's stdout attachments). The drill API installs both for
 * every drill, so no attachment site has to remember to redact.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { TestInfo } from '@playwright/test';
import { redactSecrets } from '../core/secrets.ts';

type Attach = TestInfo['attach'];
type AttachOptions = NonNullable<Parameters<Attach>[1]>;

const TEXT_TYPE = /^text\/|[/+](json|xml|yaml|x-yaml|x-ndjson|jsonl|javascript)(;|$)/i;
const TEXT_EXTENSION = new Set([
  '.txt',
  '.log',
  '.json',
  '.jsonl',
  '.ndjson',
  '.svg',
  '.xml',
  '.yaml',
  '.yml',
  '.md',
  '.html',
  '.csv',
  '.pem',
  '.key',
  '.env',
]);

/**
 * Whether an attachment is text and so can be redacted without breaking it. Binary bodies (an MCAP
 * blackbox, a PNG) pass as they are: rewriting bytes would corrupt them, and nothing the harness
 * knows as a secret is written into them.
 */
export function isTextAttachment(contentType: string | undefined, path?: string): boolean {
  if (contentType && contentType !== 'application/octet-stream') return TEXT_TYPE.test(contentType);
  return path !== undefined && TEXT_EXTENSION.has(extname(path).toLowerCase());
}

/** The attachment with its text redacted; a file whose text changes is attached as a body instead. */
export async function redactAttachment(
  options: AttachOptions,
  redactText: (text: string) => string = redactSecrets,
): Promise<AttachOptions> {
  const { body, path, contentType } = options;
  if (body !== undefined) {
    if (typeof body === 'string') return { ...options, body: redactText(body) };
    if (!isTextAttachment(contentType)) return options;
    return { ...options, body: Buffer.from(redactText(body.toString('utf8'))) };
  }
  if (path === undefined || !isTextAttachment(contentType, path)) return options;
  const text = await readFile(path, 'utf8');
  const redacted = redactText(text);
  // The file itself is the drill's own (or a robot's); the report gets the redacted copy.
  return redacted === text ? options : { body: redacted, contentType: contentType ?? 'text/plain' };
}

/**
 * Routes `testInfo.attach` (also reached as `test.info().attach`) through redaction. The returned
 * `finish()` redacts the test's annotations and errors in place; call it after the test and every
 * fixture that may fail it, before Playwright reports the result.
 */
export function redactTestOutput(
  testInfo: TestInfo,
  redactText: (text: string) => string = redactSecrets,
): { finish(): void } {
  const attach: Attach = testInfo.attach.bind(testInfo);
  testInfo.attach = async (name, options = {}) => attach(name, await redactAttachment(options, redactText));
  return {
    finish() {
      for (const annotation of testInfo.annotations) {
        if (annotation.description !== undefined) annotation.description = redactText(annotation.description);
      }
      for (const error of testInfo.errors as Array<{ message?: string; stack?: string; value?: string }>) {
        for (const field of ['message', 'stack', 'value'] as const) {
          const text = error[field];
          if (text !== undefined) error[field] = redactText(text);
        }
      }
    },
  };
}

/**
 * Redacts every chunk written to this process's stdout and stderr until the returned function
 * restores them. A secret split across two writes is not caught; console.log writes whole lines.
 */
export function redactStdio(redactText: (text: string) => string = redactSecrets): () => void {
  const restores = [process.stdout, process.stderr].map((stream) => {
    // Playwright's worker puts its own `write` on the stream object: that one is put back.
    const own = Object.getOwnPropertyDescriptor(stream, 'write');
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = (chunk: unknown, ...rest: unknown[]) => {
      const redacted =
        typeof chunk === 'string'
          ? redactText(chunk)
          : chunk instanceof Uint8Array
            ? Buffer.from(redactText(Buffer.from(chunk).toString('utf8')))
            : chunk;
      return write(redacted, ...rest);
    };
    return () => {
      if (own) Object.defineProperty(stream, 'write', own);
      else delete (stream as { write?: unknown }).write;
    };
  });
  return () => restores.forEach((restore) => restore());
}
