// `npm run devticker -- [flags]`: the simulator standalone. Prints its URL; Ctrl-C stops it.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { startDevTicker } from './index';
import type { SimFaults } from './sim';

const HELP = `devticker: a simulator of the ticker service

  --host <ip>                 default 127.0.0.1
  --port <n>                  default 8080 (0 = ephemeral)
  --seed <n>                  default 42
  --clock real|always-open|fast   default real (ticks only in NSE sessions)
  --speed <x>                 fast-forward factor for --clock fast (default 60)
  --redis-url <redis://...>   also publish ticks on Redis
  --webhook-url <url>         POST subscription events there (signed with --webhook-secret)
  --webhook-secret <s>
  --redis-events              publish subscription events on ticker:nifty:events
  --reload full|incremental   default full (1 s debounce, >= 5 s apart, a gap for every stream)
  --accounts a,b              default primary
  --strikes-per-side <n>      default 60
  --underlying-shape A|B|alternate
  --log-level <level>         default info
Faults (also switchable at runtime: POST /_sim/faults):
  --latency-ms <n>  --error-rate <0..1>  --rate-limit-storm  --stall  --stall-after-reload  --drop-events <0..1>
  --quirk-volume-zero  --quirk-ts-receive-time  --quirk-greeks-scaled  --quirk-depth-scaled  --quirk-is-mock-false
`;

const argsSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  seed: z.coerce.number().int().min(0).default(42),
  clock: z.enum(['real', 'always-open', 'fast']).default('real'),
  speed: z.coerce.number().positive().default(60),
  'redis-url': z.string().regex(/^rediss?:\/\//, 'a redis:// URL').optional(),
  'webhook-url': z.string().url().optional(),
  'webhook-secret': z.string().optional(),
  'redis-events': z.boolean().default(false),
  reload: z.enum(['full', 'incremental']).default('full'),
  accounts: z.string().optional(),
  'strikes-per-side': z.coerce.number().int().min(1).max(1000).optional(),
  'underlying-shape': z.enum(['A', 'B', 'alternate']).default('alternate'),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  'latency-ms': z.coerce.number().int().min(0).default(0),
  'error-rate': z.coerce.number().min(0).max(1).default(0),
  'rate-limit-storm': z.boolean().default(false),
  stall: z.boolean().default(false),
  'stall-after-reload': z.boolean().default(false),
  'drop-events': z.coerce.number().min(0).max(1).default(0),
  'quirk-volume-zero': z.boolean().default(false),
  'quirk-ts-receive-time': z.boolean().default(false),
  'quirk-greeks-scaled': z.boolean().default(false),
  'quirk-depth-scaled': z.boolean().default(false),
  'quirk-is-mock-false': z.boolean().default(false),
  help: z.boolean().default(false),
});

const str = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;

async function main(): Promise<void> {
  let raw;
  try {
    raw = parseArgs({
      args: process.argv.slice(2),
      options: {
        host: str, port: str, seed: str, clock: str, speed: str, 'redis-url': str, 'webhook-url': str, 'webhook-secret': str,
        'redis-events': flag, reload: str, accounts: str, 'strikes-per-side': str, 'underlying-shape': str, 'log-level': str,
        'latency-ms': str, 'error-rate': str, 'rate-limit-storm': flag, stall: flag, 'stall-after-reload': flag, 'drop-events': str,
        'quirk-volume-zero': flag, 'quirk-ts-receive-time': flag, 'quirk-greeks-scaled': flag, 'quirk-depth-scaled': flag,
        'quirk-is-mock-false': flag, help: flag,
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`devticker: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`devticker: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
    process.exit(2);
  }
  const a = parsed.data;
  if (a.help) {
    process.stdout.write(HELP);
    return;
  }
  const logger = pino({ name: 'devticker', level: a['log-level'], redact: ['webhookSecret', '*.webhookSecret'] });
  const faults: Partial<SimFaults> = {
    latencyMs: a['latency-ms'], errorRate: a['error-rate'], rateLimitStorm: a['rate-limit-storm'], stall: a.stall,
    stallAfterReload: a['stall-after-reload'], dropEventsRate: a['drop-events'], quirkVolumeZero: a['quirk-volume-zero'],
    quirkTsReceiveTime: a['quirk-ts-receive-time'], quirkGreeksScaled: a['quirk-greeks-scaled'], quirkDepthScaled: a['quirk-depth-scaled'],
    quirkIsMockFalse: a['quirk-is-mock-false'],
  };
  const dt = await startDevTicker({
    host: a.host, port: a.port, seed: a.seed, clockMode: a.clock, speed: a.speed, redisUrl: a['redis-url'], webhookUrl: a['webhook-url'],
    webhookSecret: a['webhook-secret'], publishRedisEvents: a['redis-events'], reloadMode: a.reload,
    accounts: a.accounts ? a.accounts.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    strikesPerSide: a['strikes-per-side'], underlyingShape: a['underlying-shape'], faults, logger,
  });
  process.stdout.write(`devticker listening on ${dt.url} (clock ${a.clock}, seed ${a.seed}, ${dt.registry.live.length} instruments)\n`);
  const stop = (): void => {
    dt.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`devticker: ${(err as Error).message}\n`);
  process.exit(1);
});
