import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Finds the Temporal CLI (which embeds a full dev server and the Web UI): TEMPORAL_CLI_PATH, then PATH,
 * then $(go env GOPATH)/bin; installs it with `go install` when Go is present. Nothing is downloaded
 * from anywhere but the Go module proxy.
 */
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function goBinDir(): string | undefined {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  try {
    const gopath = execFileSync(go, ['env', 'GOPATH'], { encoding: 'utf8' }).trim().split(path.delimiter)[0];
    return gopath ? path.join(gopath, 'bin') : undefined;
  } catch {
    return undefined;
  }
}

function findTemporalCli(): string | undefined {
  const explicit = process.env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`TEMPORAL_CLI_PATH points at ${explicit}, which does not exist`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const bin = goBinDir();
  if (bin && existsSync(path.join(bin, 'temporal'))) return path.join(bin, 'temporal');
  return undefined;
}

/** Returns the CLI path, installing it with Go when needed; throws with instructions otherwise. */
export function ensureTemporalCli(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const found = findTemporalCli();
  if (found) return found;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      'The Temporal CLI was not found. Install it with one of:\n' +
        `  go install ${TEMPORAL_CLI_MODULE}   (Go >= 1.25; lands in $(go env GOPATH)/bin)\n` +
        '  brew install temporal   or   curl -sSf https://temporal.download/cli.sh | sh\n' +
        'or set TEMPORAL_CLI_PATH to an existing temporal binary.',
    );
  }
  log(`Temporal CLI not found; building it with \`go install ${TEMPORAL_CLI_MODULE}\` (a few minutes the first time)...`);
  const result = spawnSync(go, ['install', TEMPORAL_CLI_MODULE], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`go install ${TEMPORAL_CLI_MODULE} failed (exit ${result.status})`);
  const installed = findTemporalCli();
  if (!installed) throw new Error('go install succeeded but the temporal binary is not in $(go env GOPATH)/bin');
  return installed;
}

if (require.main === module) {
  try {
    console.log(ensureTemporalCli());
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
