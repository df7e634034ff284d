// Load check: 9000 streaming instruments at 1 tick/s must cost a fraction of one core.
// Drives the loop with a manual clock (one step per market second) and reports CPU per second of market time,
// every instrument trading every second (SPARSE=1 for realistic liquidity), with a baseline measured in the same run: building the same number of messages with JSON.stringify of objects.
import { fromIstWallClock } from '../src/main/calendar';
import { ManualClock } from '../src/testing/clock';
import { CHANNEL_OPTIONS } from '../src/shared/feed';
import { startDevTicker } from '../src/devticker/index';
import { Targets } from './targets';

const SECONDS = Number(process.env.SECONDS ?? 60);
const clock = new ManualClock(fromIstWallClock('2025-11-04T10:00:00'));
const dt = await startDevTicker({ port: 0, clock, autoTick: false, strikesPerSide: 200, denseTicks: process.env.SPARSE !== '1' });
let messages = 0;
let bytes = 0;
dt.bus.subscribe(CHANNEL_OPTIONS, (m) => {
  messages++;
  bytes += m.length;
});
const tokens = dt.registry.live
  .filter((i) => i.kind !== 'index')
  .slice(0, 9000)
  .map((i) => i.token);
dt.sim.subscribe(tokens);
dt.sim.tick(); // warm-up: per-day caches and cumulative volume catch-up
clock.advance(1000);
messages = 0;
bytes = 0;

const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < SECONDS; i++) {
  dt.sim.tick();
  clock.advance(1000);
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMsPerSecond = (cpu.user + cpu.system) / 1000 / SECONDS;

// Baseline: the naive way, one object per tick through JSON.stringify.
const b0 = performance.now();
let sink = 0;
for (let i = 0; i < messages; i++) {
  sink += JSON.stringify({
    symbol: 'NIFTY',
    token: 13660418 + i,
    tradingsymbol: 'NIFTY25NOV24500CE',
    segment: 'NFO-OPT',
    exchange: 'NFO',
    strike: 24500,
    expiry: '2025-11-25',
    type: 'CE',
    lot_size: 75,
    tick_size: 0.05,
    price: 100 + (i % 50) * 0.05,
    volume: i * 75,
    oi: 23025,
    iv: 0.1432,
    delta: 0.61,
    gamma: 0.0004,
    theta: -0.0002,
    vega: 0.0002,
    ts: 1762239154,
    is_mock: false,
    depth: {
      buy: [1, 2, 3, 4, 5].map((k) => ({ quantity: 75 * k, price: 100 - k * 0.05, orders: k })),
      sell: [1, 2, 3, 4, 5].map((k) => ({ quantity: 75 * k, price: 100 + k * 0.05, orders: k })),
    },
    total_buy_quantity: 123450,
    total_sell_quantity: 98700,
  }).length;
}
const baselineMs = performance.now() - b0;
await dt.close();

const out = {
  instruments: tokens.length,
  marketSeconds: SECONDS,
  optionTicks: messages,
  ticksPerSecond: Math.round(messages / SECONDS),
  avgBytes: Math.round(bytes / Math.max(1, messages)),
  cpuMsPerMarketSecond: Number(cpuMsPerSecond.toFixed(2)),
  coreFraction: Number((cpuMsPerSecond / 1000).toFixed(4)),
  wallMs: Math.round(wall),
  baselineStringifyMs: Math.round(baselineMs),
  ratioVsBaseline: Number((wall / Math.max(1, baselineMs)).toFixed(2)),
  sink: sink > 0,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
// README: 9000 instruments at 1 tick/s cost "about 4% of one core"; the target is a small fraction of one core (< 10%).
const targets = new Targets();
targets.below('devticker CPU for 9000 instruments at 1 tick/s', out.coreFraction * 100, 10, '% of one core');
targets.atLeast('devticker instruments streaming', out.instruments, 9000);
targets.print((l) => process.stdout.write(`${l}\n`));
