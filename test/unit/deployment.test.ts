import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig } from '../../src/config';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/temporal/searchAttributes';
import { PREBUILT_BUNDLE_PATH, prebuiltBundlePath } from '../../src/temporal/worker';
import { productionWorkerNodeFlags, startWorkerFlagsAsWritten, WORKER_ENTRY } from '../../bench/workerFlags';

/**
 * No machine here runs Docker, so this reads docker-compose.yml and the Dockerfile and checks what can be
 * checked without running them: services, pinned images, environment against src/config.ts, ports,
 * healthchecks, start order, the Temporal setup jobs, and the image's stages.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

// ---- docker-compose.yml ----------------------------------------------------------------------------

type Env = Record<string, string | number | boolean | null>;
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Env;
  ports?: Array<string | number | { target: number | string; published?: number | string; host_ip?: string }>;
  expose?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  volumes?: string[];
  mem_limit?: string;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

/** Compose interpolation with the values a user would put in .env: `$$`, `${X}`, `${X:-default}`, `${X:?message}`. */
const USER_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pgpassword',
  ADMIN_API_KEY: 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU',
  ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  ZENDESK_CLIENT_ID: 'client-id',
  ZENDESK_CLIENT_SECRET: 'client-secret',
};
function interpolate(text: string, env: Record<string, string> = USER_ENV): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, op, arg, bare) => {
    if (match === '$$') return '$';
    const name = braced ?? bare;
    const value = env[name];
    if (op === ':-' || op === '-') return value ? value : arg;
    if (op === ':?' || op === '?') {
      if (!value) throw new Error(`required ${name}: ${arg}`);
      return value;
    }
    return value ?? '';
  });
}
const envOf = (service: Service, env = USER_ENV) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), env)]));
const commandText = (service: Service) => [service.entrypoint, service.command].flat().filter(Boolean).join(' ');

/** Where a service's `ports` publish on the host: short syntax `[ip:][host:]container[/proto]` or the long syntax. */
function published(service: Pick<Service, 'ports'>): Array<{ hostIp: string; hostPort: string; containerPort: string }> {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === 'object') {
      return {
        hostIp: entry.host_ip ? interpolate(entry.host_ip) : '0.0.0.0',
        hostPort: entry.published === undefined ? '(random)' : interpolate(String(entry.published)),
        containerPort: String(entry.target),
      };
    }
    const text = interpolate(String(entry)).replace(/\/(tcp|udp)$/, '');
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
    const [ip, rest] = ipv6 ? [ipv6[1]!, ipv6[2]!] : [undefined, text];
    const parts = rest.split(':');
    // No address means every interface (Docker's default).
    if (parts.length === 1) return { hostIp: ip ?? '0.0.0.0', hostPort: '(random)', containerPort: parts[0]! };
    if (parts.length === 2) return { hostIp: ip ?? '0.0.0.0', hostPort: parts[0]!, containerPort: parts[1]! };
    return { hostIp: parts[0]!, hostPort: parts[1]!, containerPort: parts[2]! };
  });
}
const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost']);

const EXPECTED_SERVICES = ['postgres', 'temporal-schema', 'temporal', 'temporal-setup', 'temporal-ui', 'migrate', 'api', 'worker'];
const SECRETS = ['ADMIN_API_KEY', 'ENCRYPTION_KEY', 'ZENDESK_CLIENT_ID', 'ZENDESK_CLIENT_SECRET'];

describe('docker-compose.yml', () => {
  test('has every service', () => {
    for (const name of EXPECTED_SERVICES) assert.ok(services[name], `service ${name}`);
  });

  test('every image is pinned to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.image, `${name} names its image`);
      const image = interpolate(service.image);
      const match = /^([a-z0-9./-]+):([A-Za-z0-9_.-]+)$/.exec(image);
      assert.ok(match, `${name}: ${image} has a tag`);
      assert.notEqual(match[2], 'latest', `${name}: ${image} is not :latest`);
      assert.match(match[2]!, /\d/, `${name}: ${image} has a version in its tag`);
    }
    assert.match(services.postgres!.image!, /^postgres:16\.\d+/);
    assert.equal(services['temporal-schema']!.image, 'temporalio/admin-tools:1.31.0');
    assert.equal(services['temporal-setup']!.image, 'temporalio/admin-tools:1.31.0');
    assert.equal(services.temporal!.image, 'temporalio/server:1.31.0');
    assert.equal(services['temporal-ui']!.image, 'temporalio/ui:2.49.1');
  });

  test('migrate, api and worker run our image, built from the Dockerfile', () => {
    const ours = interpolate(services.api!.image!);
    for (const name of ['migrate', 'api', 'worker']) {
      assert.equal(interpolate(services[name]!.image!), ours, `${name} runs ${ours}`);
      assert.deepEqual(services[name]!.build, { context: '.', dockerfile: 'Dockerfile' });
    }
    assert.deepEqual(services.migrate!.command, ['node', 'dist/src/db/migrate-cli.js']);
    assert.deepEqual(services.api!.command, ['node', 'dist/src/api-server.js']);
    assert.deepEqual(services.worker!.command, ['node', '--max-old-space-size=${WORKER_HEAP_MB:-128}', 'dist/src/worker.js']);
    for (const entry of ['src/db/migrate-cli.ts', 'src/api-server.ts', 'src/worker.ts']) assert.ok(existsSync(path.join(ROOT, entry)), entry);
  });

  test('the worker runs with the V8 heap cap of `npm run start:worker`, inside its memory limit', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const flags = startWorkerFlagsAsWritten(pkg.scripts['start:worker']);
    assert.ok(
      flags.some((f) => /^--max-old-space-size=/.test(f)),
      `start:worker sets a heap cap: ${pkg.scripts['start:worker']}`,
    );
    // The same command as package.json's script, flags included (one value, WORKER_HEAP_MB, for both).
    const command = services.worker!.command as string[];
    assert.deepEqual(command, ['node', ...flags, WORKER_ENTRY]);
    const cap = (args: string[]) => Number(/^--max-old-space-size=(\d+)$/.exec(args.find((a) => a.startsWith('--max-old-space-size='))!)?.[1]);
    for (const env of [USER_ENV, { ...USER_ENV, WORKER_HEAP_MB: '256' }]) {
      const compose = command.map((arg) => interpolate(arg, env));
      assert.deepEqual(compose.slice(1, -1), productionWorkerNodeFlags(env), 'compose and npm run start:worker expand to the same flags');
      assert.ok(cap(compose) >= 64 && cap(compose) <= 4096, `a heap cap in MB: ${compose.join(' ')}`);
    }
    assert.equal(cap(productionWorkerNodeFlags({})), 128, 'default cap');
    assert.equal(cap(productionWorkerNodeFlags({ WORKER_HEAP_MB: '' })), 128, 'an empty WORKER_HEAP_MB keeps the default');
    // The container limit leaves room for what lives outside the V8 heap (Node, the Temporal core, buffers).
    const limit = /^(\d+)([mg])$/.exec(interpolate(String(services.worker!.mem_limit ?? '')));
    assert.ok(limit, `worker mem_limit: ${services.worker!.mem_limit}`);
    const limitMb = Number(limit[1]) * (limit[2] === 'g' ? 1024 : 1);
    assert.ok(limitMb >= cap(productionWorkerNodeFlags({})) + 256, `mem_limit ${limitMb} MB ≥ heap cap + 256 MB`);
  });

  test('api and worker get every variable the config module reads', () => {
    assert.ok(ENV_VARIABLES.includes('DATABASE_URL') && ENV_VARIABLES.includes('METRICS_PORT'), 'ENV_VARIABLES comes from the schema');
    for (const name of ['api', 'worker']) {
      const env = services[name]!.environment ?? {};
      const missing = ENV_VARIABLES.filter((key) => !(key in env));
      assert.deepEqual(missing, [], `${name} environment lacks ${missing.join(', ')}`);
      const unknown = Object.keys(env).filter((key) => !(ENV_VARIABLES as string[]).includes(key));
      assert.deepEqual(unknown, [], `${name} environment has variables config.ts does not read: ${unknown.join(', ')}`);
    }
  });

  test('secrets come from the environment or .env, never from the file', () => {
    for (const name of ['api', 'worker']) {
      const env = services[name]!.environment ?? {};
      for (const secret of SECRETS) assert.match(String(env[secret]), new RegExp(`^\\$\\{${secret}:\\?.+\\}$`), `${name}.${secret} is required from outside`);
      assert.match(String(env.DATABASE_URL), /\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\//);
      assert.throws(() => envOf(services[name]!, {}), /required/, 'compose refuses to start without the secrets');
    }
    assert.match(String(services.postgres!.environment?.POSTGRES_PASSWORD), /^\$\{POSTGRES_PASSWORD:\?.+\}$/);
    assert.match(String(services.temporal!.environment?.POSTGRES_PWD), /^\$\{POSTGRES_PASSWORD:\?.+\}$/);
  });

  test('the api and worker environments pass the config module as each role requires', () => {
    const api = loadConfig(envOf(services.api!), 'api');
    assert.equal(api.port, 3000);
    assert.equal(api.temporal.address, 'temporal:7233');
    assert.equal(api.zendesk.baseUrlTemplate, 'https://{subdomain}.zendesk.com');
    assert.equal(api.databaseUrl, 'postgres://postgres:pgpassword@postgres:5432/zendesk_integration');
    const worker = loadConfig(envOf(services.worker!), 'worker');
    assert.equal(worker.metricsPort, 9464);
    assert.equal(worker.temporalMetricsPort, undefined, 'SDK metrics off unless TEMPORAL_METRICS_PORT is set');
    assert.equal(worker.workflowBundlePath, undefined, 'the image bundle unless WORKFLOW_BUNDLE_PATH is set');
    assert.equal(worker.syncIntervalMs, 6 * 3_600_000);
    assert.equal(loadConfig(envOf(services.worker!, { ...USER_ENV, TEMPORAL_METRICS_PORT: '9465' }), 'worker').temporalMetricsPort, 9465);
    const migrate = loadConfig(envOf(services.migrate!), 'migrate');
    assert.equal(migrate.databaseUrl, api.databaseUrl);
    for (const secret of SECRETS) assert.ok(!(secret in (services.migrate!.environment ?? {})), `migrate does not get ${secret}`);
  });

  test("ports: API 3000 public, its internal 9463 and the worker's 9464 on the compose network only", () => {
    assert.deepEqual(published(services.api!), [{ hostIp: '0.0.0.0', hostPort: '3000', containerPort: '3000' }]);
    assert.ok(services.api!.expose?.includes('9463'), "the API's internal port is exposed to the compose network");
    assert.equal(envOf(services.api!).INTERNAL_PORT, '9463');
    assert.ok(services.worker!.expose?.includes('9464'));
    assert.equal(services.worker!.ports, undefined, 'worker publishes no host port, so it can be scaled');
    assert.equal(envOf(services['temporal-ui']!).TEMPORAL_ADDRESS, 'temporal:7233');
  });

  test('nothing of Temporal (frontend, Web UI) and nothing but the public API is published beyond loopback', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of published(service)) {
        if (name === 'api' && port.containerPort === '3000') continue; // the public API itself
        assert.ok(LOOPBACK_BINDS.has(port.hostIp), `${name} publishes ${port.containerPort} on ${port.hostIp}: bind it to 127.0.0.1 (or use expose)`);
      }
    }
    // Still reachable from the host itself, for the CLI and a browser through an SSH tunnel.
    assert.deepEqual(published(services.temporal!), [{ hostIp: '127.0.0.1', hostPort: '7233', containerPort: '7233' }]);
    assert.deepEqual(published(services['temporal-ui']!), [{ hostIp: '127.0.0.1', hostPort: '8080', containerPort: '8080' }]);
    assert.deepEqual(published(services.postgres!), [], 'PostgreSQL is not published at all');
  });

  test('the port check has teeth: the old `7233:7233` and the long syntax without host_ip count as every interface', () => {
    assert.deepEqual(published({ ports: ['7233:7233'] }), [{ hostIp: '0.0.0.0', hostPort: '7233', containerPort: '7233' }]);
    assert.deepEqual(published({ ports: ['8080'] }), [{ hostIp: '0.0.0.0', hostPort: '(random)', containerPort: '8080' }]);
    assert.deepEqual(published({ ports: [{ target: 8080, published: 8080 }] }), [{ hostIp: '0.0.0.0', hostPort: '8080', containerPort: '8080' }]);
    assert.deepEqual(published({ ports: ['[::1]:7233:7233/tcp'] }), [{ hostIp: '::1', hostPort: '7233', containerPort: '7233' }]);
    assert.deepEqual(
      published({ ports: ['0.0.0.0:8080:8080'] }).map((p) => LOOPBACK_BINDS.has(p.hostIp)),
      [false],
    );
  });

  test('the Temporal Web UI is read-only by default', () => {
    const env = envOf(services['temporal-ui']!);
    assert.equal(env.TEMPORAL_DISABLE_WRITE_ACTIONS, 'true', 'no terminate, reset, signal or schedule deletion from the UI');
    // An operator may turn writes on explicitly (with authentication in front), never by leaving it out.
    assert.equal(envOf(services['temporal-ui']!, { ...USER_ENV, TEMPORAL_UI_DISABLE_WRITE_ACTIONS: 'false' }).TEMPORAL_DISABLE_WRITE_ACTIONS, 'false');
    assert.equal(envOf(services['temporal-ui']!, { ...USER_ENV, TEMPORAL_UI_DISABLE_WRITE_ACTIONS: '' }).TEMPORAL_DISABLE_WRITE_ACTIONS, 'true');
  });

  test('healthchecks', () => {
    const check = (name: string) => {
      const hc = services[name]!.healthcheck;
      assert.ok(hc, `${name} has a healthcheck`);
      return [hc.test].flat().join(' ');
    };
    assert.match(check('postgres'), /pg_isready/);
    assert.match(check('temporal'), /7233/);
    // The API's readiness is on its internal port, not the public one.
    assert.match(check('api'), new RegExp(`http://127\\.0\\.0\\.1:${envOf(services.api!).INTERNAL_PORT}/readyz`));
    assert.doesNotMatch(check('api'), /:3000\//);
    const workerPort = envOf(services.worker!).METRICS_PORT;
    assert.match(check('worker'), new RegExp(`http://127\\.0\\.0\\.1:${workerPort}/readyz`));
    // node:20-bookworm-slim has neither curl nor wget: the checks use node's fetch.
    for (const name of ['api', 'worker']) assert.match(check(name), /^CMD node -e fetch\(/);
  });

  test('depends_on conditions start everything in order', () => {
    const expected: Record<string, Record<string, string>> = {
      'temporal-schema': { postgres: 'service_healthy' },
      temporal: { postgres: 'service_healthy', 'temporal-schema': 'service_completed_successfully' },
      'temporal-setup': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      migrate: { postgres: 'service_healthy' },
      api: {
        postgres: 'service_healthy',
        migrate: 'service_completed_successfully',
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
      },
      worker: {
        postgres: 'service_healthy',
        migrate: 'service_completed_successfully',
        temporal: 'service_healthy',
        'temporal-setup': 'service_completed_successfully',
      },
    };
    for (const [name, deps] of Object.entries(expected)) {
      const actual = Object.fromEntries(Object.entries(services[name]!.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition]));
      assert.deepEqual(actual, deps, `${name} depends_on`);
    }
    // Every dependency exists, waiting on health needs a healthcheck, and there is no cycle.
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
        if (condition === 'service_healthy') assert.ok(services[dep].healthcheck, `${dep} has a healthcheck for ${name}`);
        if (condition === 'service_completed_successfully') assert.equal(services[dep].restart, 'no', `${dep} is a one-shot job`);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string) => {
      if (done.has(name)) return;
      assert.ok(!visiting.has(name), `dependency cycle through ${name}`);
      visiting.add(name);
      for (const dep of Object.keys(services[name]!.depends_on ?? {})) visit(dep);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name);
  });

  test('PostgreSQL keeps its data in a volume', () => {
    assert.ok(services.postgres!.volumes?.some((v) => v.startsWith('postgres-data:/var/lib/postgresql/data')));
    assert.ok(compose.volumes && 'postgres-data' in compose.volumes);
  });

  test('the Temporal server runs on PostgreSQL as the deployment reference describes', () => {
    const env = envOf(services.temporal!);
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.DB_PORT, '5432');
    assert.equal(env.POSTGRES_USER, envOf(services.postgres!).POSTGRES_USER);
    assert.equal(env.POSTGRES_PWD, USER_ENV.POSTGRES_PASSWORD);
    assert.equal(env.POSTGRES_SEEDS, 'postgres');
    assert.equal(env.BIND_ON_IP, '0.0.0.0');
  });

  test('the schema job creates both Temporal databases and their schemas', () => {
    const script = interpolate(commandText(services['temporal-schema']!));
    assert.match(script, /temporal-sql-tool --plugin postgres12 --ep postgres/);
    assert.match(script, /for db in temporal temporal_visibility/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) assert.ok(script.includes(step), step);
    assert.match(script, /\/etc\/temporal\/schema\/postgresql\/v12\/\$dir\/versioned/);
    assert.equal(envOf(services['temporal-schema']!).SQL_PASSWORD, USER_ENV.POSTGRES_PASSWORD);
  });

  test('the setup job creates the namespace and registers every search attribute as Keyword', () => {
    const script = interpolate(commandText(services['temporal-setup']!));
    assert.match(script, /temporal operator namespace describe/);
    assert.match(script, /temporal operator namespace create --namespace "\$ns"/);
    assert.match(script, /temporal operator search-attribute create --namespace "\$ns" --name "\$name" --type Keyword/);
    const loop = /for name in ([A-Za-z ]+); do/.exec(script);
    assert.ok(loop, 'loops over the attribute names');
    assert.deepEqual(loop[1]!.trim().split(/\s+/).sort(), [...SEARCH_ATTRIBUTE_NAMES].sort());
    assert.equal(envOf(services['temporal-setup']!).TEMPORAL_NAMESPACE, envOf(services.api!).TEMPORAL_NAMESPACE);
  });
});

// ---- Dockerfile ------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
/** Instructions by stage, line continuations joined, comments dropped. */
function parseDockerfile(text: string): Array<{ from: string; name?: string; instructions: Instruction[] }> {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Array<{ from: string; name?: string; instructions: Instruction[] }> = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    assert.ok(op, `instruction: ${line}`);
    if (op.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!);
      assert.ok(m, `FROM ${args}`);
      stages.push({ from: m[1]!, name: m[2], instructions: [] });
      continue;
    }
    assert.ok(stages.length > 0, `${op} before FROM`);
    stages.at(-1)!.instructions.push({ op: op.toUpperCase(), args: args!.replace(/\s+/g, ' ') });
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages.at(-1)!;
  const all = (stage: { instructions: Instruction[] }, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

  test('is multi-stage on a pinned Node 24 LTS bookworm-slim image', () => {
    assert.ok(stages.length >= 2, 'at least two stages');
    assert.ok(build, 'a stage named build');
    for (const stage of stages) {
      assert.match(stage.from, /^node:24\.\d+\.\d+-bookworm-slim$/, `${stage.from} is pinned`);
    }
    assert.equal(new Set(stages.map((s) => s.from)).size, 1, 'build and runtime on the same Node');
    assert.notEqual(runtime.name, 'build');
  });

  test('the build stage installs, compiles and prebuilds the workflow bundle', () => {
    const runs = all(build!, 'RUN').join(' && ');
    assert.match(runs, /npm ci/);
    assert.match(runs, /npm run build/);
    assert.match(runs, /test -s dist\/workflow-bundle\.js/);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.build!, /^tsc -p tsconfig\.build\.json && tsx scripts\/bundle-workflows\.ts$/);
    const bundler = read('scripts/bundle-workflows.ts');
    assert.match(bundler, /bundleWorkflowCode/);
    assert.match(bundler, /'dist', 'src', 'workflows', 'index\.js'/);
    assert.match(bundler, /'dist', 'workflow-bundle\.js'/);
    for (const needed of ['src', 'migrations', 'scripts'])
      assert.ok(
        all(build!, 'COPY').some((c) => c.startsWith(`${needed} `)),
        `copies ${needed}`,
      );
  });

  test('the runtime stage has production dependencies, the compiled code and the prebuilt bundle', () => {
    const runs = all(runtime, 'RUN').join(' && ');
    assert.match(runs, /npm ci --omit=dev/);
    const copies = all(runtime, 'COPY');
    assert.ok(copies.includes('--from=build /app/dist ./dist'), 'copies dist from the build stage');
    assert.ok(copies.includes('--from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js'), 'copies the prebuilt bundle');
    assert.ok(all(runtime, 'ENV').some((e) => /^NODE_ENV[= ]production$/.test(e)));
  });

  test('documents the worker command with the heap cap of `npm run start:worker`', () => {
    const flags = productionWorkerNodeFlags({});
    assert.ok(read('Dockerfile').includes(`node ${flags.join(' ')} ${WORKER_ENTRY}`), `the Dockerfile's header names node ${flags.join(' ')} ${WORKER_ENTRY}`);
  });

  test('runs as the unprivileged node user, exposes the ports and starts the API by default', () => {
    const users = all(runtime, 'USER');
    assert.equal(users.at(-1), 'node');
    const userIndex = runtime.instructions.findLastIndex((i) => i.op === 'USER');
    assert.ok(
      runtime.instructions.slice(userIndex).every((i) => i.op !== 'RUN'),
      'nothing runs as root after USER',
    );
    assert.deepEqual(all(runtime, 'EXPOSE').join(' ').split(' ').sort(), ['3000', '9463', '9464']);
    const cmd = all(runtime, 'CMD').at(-1);
    assert.deepEqual(JSON.parse(cmd!), ['node', 'dist/src/api-server.js']);
  });

  test('.dockerignore keeps node_modules, dist and secrets out, and what the build needs in', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.git', '.env']) assert.ok(ignored.includes(entry), entry);
    for (const needed of ['src', 'migrations', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(!ignored.includes(needed), `${needed} reaches the build`);
    }
  });
});

describe('prebuilt workflow bundle', () => {
  test('the compiled worker looks for dist/workflow-bundle.js, where the build writes it', () => {
    // This module runs from src/temporal under tsx; compiled it is dist/src/temporal/worker.js.
    const compiledDir = path.join(ROOT, 'dist', 'src', 'temporal');
    assert.equal(path.resolve(compiledDir, '..', '..', 'workflow-bundle.js'), path.join(ROOT, 'dist', 'workflow-bundle.js'));
    assert.equal(PREBUILT_BUNDLE_PATH, path.join(ROOT, 'workflow-bundle.js'), 'relative to the module, two levels up');
  });

  test('sources run under tsx bundle at start; WORKFLOW_BUNDLE_PATH must exist', () => {
    assert.equal(prebuiltBundlePath(undefined, false), undefined);
    assert.throws(() => prebuiltBundlePath('/nonexistent/bundle.js'), /WORKFLOW_BUNDLE_PATH points at \/nonexistent\/bundle\.js/);
    assert.equal(prebuiltBundlePath(path.join(ROOT, 'package.json')), path.join(ROOT, 'package.json'));
  });
});
