// A console that accepts webhook events and is then killed -9 by the crash test (crash.test.ts).
//   node --import tsx crash-child.ts <state.db> pause  -> accepts, never processes (killed before processing)
//   node --import tsx crash-child.ts <state.db> hang   -> processing starts and hangs inside the backfill call
// Reports on stdout, one JSON line each: {"url": ...} when listening, {"enqueue": token} when an action starts.
import { startTestIntake } from './support';

const [statePath, mode] = process.argv.slice(2);
const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

const intake = await startTestIntake({
  statePath,
  start: mode !== 'pause',
  backfill: () => ({
    enqueueImmediate: async (scope) => {
      say({ enqueue: scope.kind === 'instrument' ? scope.token : null });
      return new Promise(() => undefined);
    },
  }),
});
say({ url: intake.url });
