/**
 * The console reporter of `npm test` (scripts/test.ts runs each file with it beside the spec reporter, whose
 * full output — and everything the file printed, e.g. the SDK's "Worker state changed" lines — goes to the
 * file's log). Writes only what a reader of CI needs: each failing test with its error, then one
 * machine-readable summary line the runner totals.
 *
 * Plain JavaScript: Node loads test reporters before `--import tsx` can compile TypeScript for it.
 */
import { inspect } from 'node:util';

/** The summary line's prefix; scripts/test.ts reads the line back. */
const SUMMARY_PREFIX = '#summary ';

const COUNTED = new Set(['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms']);

function errorText(error) {
  // node:test wraps what a test threw in ERR_TEST_FAILURE; its cause is the assertion or error itself.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return inspect(cause, { depth: 4, breakLength: 120 })
    .split('\n')
    .slice(0, 40)
    .map((line) => `      ${line}`)
    .join('\n');
}

export default async function* consoleReporter(source) {
  const summary = {};
  for await (const event of source) {
    if (event.type === 'test:fail' && event.data.details?.type !== 'suite') {
      yield `    ✖ ${event.data.name ?? '(unnamed)'}\n${errorText(event.data.details?.error)}\n`;
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0 && event.data.message) {
      const [key, value] = event.data.message.split(' ');
      if (key && COUNTED.has(key) && value !== undefined) summary[key] = Number(value);
    }
  }
  yield `${SUMMARY_PREFIX}${JSON.stringify(summary)}\n`;
}
