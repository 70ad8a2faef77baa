import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextTicketEventsStart } from '../../src/activities/syncMapping';

/**
 * Where the ticket-events export goes next (src/activities/syncMapping.ts). What Zendesk promises and the
 * function relies on: a page holds every event of its last second (it overflows per_page for that), so the
 * next page may restart at end_time and repeats are deduplicated by id. The expectations below follow from
 * that, not from the function's output: never skip a second that may hold unread events, never stand still
 * on a full page, never go backwards.
 */

const START = 1_700_000_000;
const page = (end_time: number, count: number, end_of_stream = false) => ({ end_time, count, end_of_stream });

describe('nextTicketEventsStart', () => {
  test('normal advance: the next page restarts at end_time, not after it (its second may hold more events)', () => {
    assert.equal(nextTicketEventsStart(START, page(START + 3_600, 1000)), START + 3_600);
    assert.equal(nextTicketEventsStart(START, page(START + 1, 1000)), START + 1);
  });

  test('end of stream: the stream resumes at end_time, whose second may still receive events', () => {
    assert.equal(nextTicketEventsStart(START, page(START + 90, 12, true)), START + 90);
    // A last page on the start's own second does not move past it: later events of that second would be lost.
    assert.equal(nextTicketEventsStart(START, page(START, 3, true)), START);
  });

  test('a full page that sat on one second moves past it: that second was sent whole, restarting there would loop', () => {
    assert.equal(nextTicketEventsStart(START, page(START, 1000)), START + 1);
    // An overflowed page (more than per_page, all one second) likewise.
    assert.equal(nextTicketEventsStart(START, page(START, 1_500)), START + 1);
  });

  test('an end_time before the start is no progress: the start stays (the progress guard ends the chunk)', () => {
    assert.equal(nextTicketEventsStart(START, page(START - 3_600, 1000)), START);
    assert.equal(nextTicketEventsStart(START, page(START - 1, 5, true)), START);
    assert.equal(nextTicketEventsStart(START, page(0, 1000)), START);
  });

  describe('count edge cases', () => {
    test('an empty page never moves the start, whatever its end_time says (nothing was read that covers the gap)', () => {
      assert.equal(nextTicketEventsStart(START, page(START, 0, true)), START);
      assert.equal(nextTicketEventsStart(START, page(0, 0, true)), START);
      assert.equal(nextTicketEventsStart(START, page(START + 600, 0, true)), START);
      assert.equal(nextTicketEventsStart(START, page(START + 600, 0, false)), START);
      assert.equal(nextTicketEventsStart(START, page(START, 0, false)), START);
    });

    test('one event is as good as a full page: any non-empty page advances alike', () => {
      for (const count of [1, 2, 999, 1000, 1001]) {
        assert.equal(nextTicketEventsStart(START, page(START + 60, count)), START + 60, `count ${count}`);
        assert.equal(nextTicketEventsStart(START, page(START, count)), START + 1, `count ${count}, one second`);
        assert.equal(nextTicketEventsStart(START, page(START, count, true)), START, `count ${count}, end of stream`);
      }
    });

    test('start_time 0 (the export from the beginning) advances like any other', () => {
      assert.equal(nextTicketEventsStart(0, page(0, 1000)), 1);
      assert.equal(nextTicketEventsStart(0, page(42, 1000)), 42);
      assert.equal(nextTicketEventsStart(0, page(0, 0, true)), 0);
    });
  });

  test('for any page: never backwards, never past a second that may hold unread events, never stuck on a full page', () => {
    const arbitraryPage = fc.record({
      start: fc.integer({ min: 0, max: 2_000_000_000 }),
      offset: fc.integer({ min: -100_000, max: 100_000 }),
      count: fc.nat({ max: 2_000 }),
      end_of_stream: fc.boolean(),
    });
    fc.assert(
      fc.property(arbitraryPage, ({ start, offset, count, end_of_stream }) => {
        const p = { end_time: Math.max(0, start + offset), count, end_of_stream };
        const next = nextTicketEventsStart(start, p);
        assert.ok(next >= start, 'never backwards');
        // Events after end_time were not read; the seconds up to end_time were (a whole page's last second too).
        assert.ok(next <= Math.max(start, p.end_time) + (p.end_time === start && !end_of_stream ? 1 : 0), 'never skips unread seconds');
        if (count === 0) assert.equal(next, start, 'an empty page does not move');
        if (count > 0 && !end_of_stream && p.end_time >= start) assert.ok(next > start, 'a non-empty page that is not the last moves forward');
      }),
      { seed: 15, numRuns: 500 },
    );
  });
});
