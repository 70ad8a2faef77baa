// Preloaded into worker processes by `npm run bench -- --profile`: samples the CPU from the start and, on
// SIGUSR2, writes a .cpuprofile (open it in Chrome DevTools or speedscope) into BENCH_PROFILE_DIR.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR;
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
process.on('SIGUSR2', () => {
  session.post('Profiler.stop', (err, result) => {
    if (!err && dir) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.env.BENCH_PROFILE_NAME || 'worker'}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    }
    process.stderr.write('BENCH_PROFILE_WRITTEN\n');
  });
});
