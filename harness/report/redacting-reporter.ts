/**
 * The runner side's choke point: listed first in playwright.config.ts, this reporter redacts each
 * result (errors, stdout and stderr, annotations, text attachments) in place before the reporters
 * after it (the JSON report, the blob report, Allure, the terminal) read it. The worker side
 * (redacted-output.ts) already redacts what drills hand over; this also covers tests that do not
 * use the drill API, such as a unit test whose failed `expect` quotes a key, and errors raised
 * after a drill's fixtures came down.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import type { Reporter, TestCase, TestError, TestResult, TestStep } from '@playwright/test/reporter';
import { redactSecrets } from '../core/secrets.ts';
import { isTextAttachment } from './redacted-output.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function redactError(error: TestError, redactText: (text: string) => string): void {
  const fields = error as Mutable<TestError>;
  for (const field of ['message', 'stack', 'value', 'snippet'] as const) {
    const text = fields[field];
    if (text !== undefined) fields[field] = redactText(text);
  }
  if (error.cause) redactError(error.cause, redactText);
}

/** Redacts one test result in place, as the reporters after this one will read it. */
export function redactResult(result: TestResult, redactText: (text: string) => string = redactSecrets): void {
  const seen = new Set<TestError>();
  for (const error of [...result.errors, ...(result.error ? [result.error] : [])]) {
    if (seen.has(error)) continue;
    seen.add(error);
    redactError(error, redactText);
  }
  const output = result as Mutable<TestResult>;
  for (const stream of ['stdout', 'stderr'] as const) {
    output[stream] = result[stream].map((chunk) =>
      typeof chunk === 'string' ? redactText(chunk) : Buffer.from(redactText(chunk.toString('utf8'))),
    );
  }
  for (const annotation of result.annotations) {
    if (annotation.description !== undefined) annotation.description = redactText(annotation.description);
  }
  redactAttachmentBodies(result.attachments, redactText);
}

/** Redacts text attachment bodies in place; binary ones pass as they are. */
export function redactAttachmentBodies(
  attachments: TestResult['attachments'],
  redactText: (text: string) => string = redactSecrets,
): void {
  for (const attachment of attachments as Array<Mutable<TestResult['attachments'][number]>>) {
    if (attachment.body && isTextAttachment(attachment.contentType)) {
      attachment.body = Buffer.from(redactText(attachment.body.toString('utf8')));
    }
  }
}

/**
 * Redacts, in place, the text files attached by path under `outputDir`: Playwright's own
 * error-context.md and the copies it makes of files a test attached. Files elsewhere are not the
 * run's to rewrite; a test whose output folder is already gone has nothing left to redact.
 */
export function redactAttachmentFiles(
  result: TestResult,
  outputDir: string,
  redactText: (text: string) => string = redactSecrets,
): void {
  for (const { path, contentType } of result.attachments) {
    if (!path || !isTextAttachment(contentType, path)) continue;
    const inside = relative(outputDir, path);
    if (inside.startsWith('..') || isAbsolute(inside)) continue;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const redacted = redactText(text);
    if (redacted !== text) writeFileSync(path, redacted);
  }
}

export default class RedactingReporter implements Reporter {
  printsToStdio(): boolean {
    return false;
  }

  // Allure writes a step's attachments and error when the step ends, before the test does.
  onStepEnd(_test: unknown, _result: TestResult, step: TestStep): void {
    if (step.error) redactError(step.error, redactSecrets);
    redactAttachmentBodies(step.attachments);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    redactResult(result);
    const outputDir = test.parent.project()?.outputDir;
    if (outputDir) redactAttachmentFiles(result, outputDir);
  }
}
