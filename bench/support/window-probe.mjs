// bench:fullload's probe, loaded into the headless console's processes with NODE_OPTIONS=--import <this file>.
// NODE_OPTIONS reaches both processes of the headless console, and the probe does a different job in each:
//  - the PARENT (the relay front, which serves the window; spawned without an IPC channel): measures its own
//    event-loop delay (perf_hooks.monitorEventLoopDelay) and CPU (process.cpuUsage). On SIGUSR2 it writes what it
//    measured since the previous SIGUSR2 (or since it loaded) as JSON to PROBE_REPORT_FILE, then starts over;
//    `seq` counts the reports so the bench knows a new one landed. With its event-loop utilisation and GC pauses,
//    to tell a loop busy with work from one waiting for a CPU. Loaded into a bare `node` (nothing else running)
//    it is the bench's idle control: the machine's scheduling noise over the same window.
//  - the CORE child (forked by the parent with an IPC channel, so process.send exists): runs on the bench's
//    shifted clock, PROBE_CLOCK_OFFSET_MS ahead of the real one, as the in-process console does through
//    startApp's clock option. The core's clock is Date.now (shared/clock.ts systemClock), so shifting Date.now
//    shifts it; PGlite's WASM takes its time from Date.now too, so clock_timestamp() in a PGlite market store
//    inside the core is on the shifted clock as well (the bench accounts for that when it reads bar write times).
// Plain JavaScript: NODE_OPTIONS imports it into the built console, which runs without a TypeScript loader.
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

const offset = Number(process.env.PROBE_CLOCK_OFFSET_MS ?? 0);
const reportFile = process.env.PROBE_REPORT_FILE;
// Diagnostics: a V8 CPU profile of the window's process per report window (--cpu-prof is refused in NODE_OPTIONS).
const profileFile = process.env.PROBE_CPU_PROFILE;

if (process.send) {
  if (Number.isFinite(offset) && offset !== 0) {
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() + offset;
  }
} else if (reportFile) {
  // Each sample of monitorEventLoopDelay is the time between two firings of a `resolution`-ms repeating timer, so it
  // includes the interval itself (nodejs/node#34661; Elastic's APM agent subtracts it too). The delay, how late the
  // timer fired, is the sample less the resolution; the raw sample p99 is reported beside it.
  const RESOLUTION_MS = 10;
  const delay = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eld.enable();
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let elu0 = performance.eventLoopUtilization();
  // Where a long delay comes from: the loop's own work (utilisation), garbage collection, or neither (the process
  // was runnable but not running: CPU contention on the machine).
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  let seq = 0;
  const profiler = profileFile ? new Session() : null;
  if (profiler) {
    profiler.connect();
    profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
  }
  process.on('SIGUSR2', () => {
    if (profiler) {
      profiler.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(`${profileFile}.${seq}.cpuprofile`, JSON.stringify(result.profile));
        profiler.post('Profiler.start');
      });
    }
    const cpu = process.cpuUsage(cpu0);
    const report = {
      seq: ++seq,
      pid: process.pid,
      eldP50Ms: delay(eld.percentile(50)),
      eldP99Ms: delay(eld.percentile(99)),
      eldMaxMs: delay(eld.max),
      eldSampleP99Ms: eld.percentile(99) / 1e6,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      wallSeconds: (performance.now() - t0) / 1000,
      eventLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
      gcCount: gc.count,
      gcTotalMs: gc.totalMs,
      gcMaxMs: gc.maxMs,
    };
    // Written aside and renamed: the bench never reads half a report.
    writeFileSync(`${reportFile}.tmp`, JSON.stringify(report));
    renameSync(`${reportFile}.tmp`, reportFile);
    eld.reset();
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    elu0 = performance.eventLoopUtilization();
    gc = { count: 0, totalMs: 0, maxMs: 0 };
  });
  // Report 0, before any measurement: the handler is in place (SIGUSR2 sent earlier would end the process).
  writeFileSync(`${reportFile}.tmp`, JSON.stringify({ seq: 0, pid: process.pid }));
  renameSync(`${reportFile}.tmp`, reportFile);
}
