// A devticker in its own process for benches, with what the CLI has no flag for: a clock shifted by
// DEVTICKER_OFFSET_MS (so a run at night streams a trading session as the real service would by day).
//   DEVTICKER_OPTIONS='{"port":0,"redisUrl":"redis://...","strikesPerSide":200,...}' DEVTICKER_OFFSET_MS=...
//   node --import tsx bench/support/devticker-process.ts      prints "devticker <url>" when listening
import { startDevTicker, type DevTickerOptions } from '../../src/devticker/index';

const offset = Number(process.env.DEVTICKER_OFFSET_MS ?? 0);
const options = JSON.parse(process.env.DEVTICKER_OPTIONS ?? '{}') as DevTickerOptions;
const dt = await startDevTicker({ ...options, clock: { now: () => Date.now() + offset } });
process.stdout.write(`devticker ${dt.url}\n`);
const stop = () =>
  void dt.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
