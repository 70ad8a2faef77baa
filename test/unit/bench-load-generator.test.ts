import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseH2load, quantile } from '../../bench/loadGenerator';

// What h2load 1.52 (Debian's nghttp2-client) prints for `-D1` against a server answering half its
// requests with 503, followed by bash's `times` (the shell's CPU time, then its children's).
const OUTPUT = `starting benchmark...
Application protocol: http/1.1
finished in 2.00s, 5.00 req/s, 5.35MB/s
requests: 10 total, 12 started, 10 done, 7 succeeded, 3 failed, 1 errored, 0 timeout
status codes: 7 2xx, 0 3xx, 1 4xx, 1 5xx
time for request:       18us      7.83ms        46us       140us    98.81%
0m0.000s 0m0.002s
0m1.115s 0m0.399s
`;

/** A per-request log line: start (µs since the epoch), status, µs to the end of the response. */
const line = (status: number, ms: number) => `1796064760499186\t${status}\t${Math.round(ms * 1000)}`;

describe('bench load generator: h2load results', () => {
  test('percentiles come from the per-request log; failures from the summary; CPU from times', () => {
    const latencies = [5, 1, 4, 2, 3, 9, 8, 7, 6, 12_000];
    const log = latencies.map((ms, i) => line(i === 3 ? 503 : 200, ms)).join('\n') + '\n';
    const r = parseH2load(OUTPUT, log);
    assert.equal(r.requests, 10);
    assert.equal(r.rps, 5);
    assert.equal(r.p50, 5);
    assert.equal(r.p90, 9);
    assert.equal(r.p99, 12_000);
    assert.equal(r.max, 12_000);
    assert.equal(r.errors, 1, 'errored: below HTTP');
    assert.equal(r.non2xx, 2, 'the 4xx and the 5xx');
    assert.equal(r.timeouts, 1, 'one request took longer than the 10 s timeout');
    assert.equal(r.generatorCpuMs, 1_514);
  });

  test('output without a summary is an error, not zeros', () => {
    assert.throws(() => parseH2load('connect to 127.0.0.1 failed\n', ''), /printed no summary/);
  });

  test('quantile is the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(sorted, 0.5), 50);
    assert.equal(quantile(sorted, 0.99), 99);
    assert.equal(quantile(sorted, 1), 100);
    assert.equal(quantile([7], 0.99), 7);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });
});
