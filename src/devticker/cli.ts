// `npm run devticker -- [flags]`: the simulator standalone. Prints its URL; Ctrl-C stops it.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { z } from 'zod';
import { startDevTicker } from './index';
import type { SimFaults } from './sim';

const HELP = `devticker: a simulator of the ticker service (see docs/ticker-contract.md)

  --profile production|ideal  default production: the real service as it behaves today (volume 0, ts = receive
                              time, theta/365 and vega/100, greeks 0 without the index token, depth/100, is_mock
                              false, mock ticks outside 09:15-15:30 IST, null account_id, per-path limits, the
                              /history queue, no /instruments); ideal: the kind simulator of earlier releases
  --host <ip>                 default 127.0.0.1
  --port <n>                  default 8080 (0 = ephemeral)
  --seed <n>                  default 42
  --clock real|always-open|fast   default real (NSE sessions; production also streams mock ticks outside 09:15-15:30)
  --speed <x>                 fast-forward factor for --clock fast (default 60)
  --redis-url <redis://...>   also publish ticks on Redis
  --webhook-url <url>         POST subscription events there (signed with --webhook-secret)
  --webhook-secret <s>
  --redis-events              publish subscription events on ticker:nifty:events
  --reload full|incremental|broken
                              default full (1 s debounce, >= 5 s apart, a gap for every stream); broken = the
                              current service revision: the first reload stops all streaming for good, a start
                              with no rows never streams; /health keeps saying running (restart to recover)
  --accounts a,b              default primary
  --environment <name>        /health environment (default dev); production|staging: 301 to https except
                              /health and /metrics unless X-Forwarded-Proto: https
  --instruments-csv <path>    write the registry as a Kite-format CSV file (rewritten each new IST date)
  --instrument-db <url>       write the registry into table instrument_registry of this postgres:// database
  --instrument-db-expiry text|date   expiry column type when the table is created (default text)
  --instruments-route         serve GET /instruments (devticker extension; default on in the ideal profile only)
  --state-file <path>         keep subscription rows across restarts (a restart streams every active row)
  --rebalancer                the service's strike rebalancer (account primary, ATM+-10, 3 expiries,
                              NIFTY/BANKNIFTY/FINNIFTY); off by default
  --allowed-host <host:port>  also accept this Host header (others than the bound address and loopback get 421)
  --sim-token <t>             token for /_sim/ (header X-Sim-Token); default $DEVTICKER_SIM_TOKEN or random,
                              printed at start
  --no-sim                    turn /_sim/ off (404)
  --strikes-per-side <n>      default 60
  --underlying-shape A|B|alternate   (ideal profile; production follows the service's shape rules)
  --log-level <level>         default info
Faults and quirks (also switchable at runtime: POST /_sim/faults with X-Sim-Token; quirks default on in
production, off in ideal; a flag sets the quirk on, --no-<flag> sets it off):
  --latency-ms <n>  --error-rate <0..1>  --rate-limit-storm  --stall  --stall-after-reload  --drop-events <0..1>
  --quirk-volume-zero  --quirk-ts-receive-time  --quirk-greeks-scaled  --quirk-depth-scaled  --quirk-is-mock-false
  --quirk-greeks-need-index  --quirk-iv-nan
`;

const QUIRKS = [
  ['quirk-volume-zero', 'quirkVolumeZero'],
  ['quirk-ts-receive-time', 'quirkTsReceiveTime'],
  ['quirk-greeks-scaled', 'quirkGreeksScaled'],
  ['quirk-depth-scaled', 'quirkDepthScaled'],
  ['quirk-is-mock-false', 'quirkIsMockFalse'],
  ['quirk-greeks-need-index', 'quirkGreeksNeedIndex'],
  ['quirk-iv-nan', 'quirkIvNaN'],
] as const;

const argsSchema = z.object({
  profile: z.enum(['production', 'ideal']).default('production'),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  seed: z.coerce.number().int().min(0).default(42),
  clock: z.enum(['real', 'always-open', 'fast']).default('real'),
  speed: z.coerce.number().positive().default(60),
  'redis-url': z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .optional(),
  'webhook-url': z.string().url().optional(),
  'webhook-secret': z.string().optional(),
  'redis-events': z.boolean().default(false),
  reload: z.enum(['full', 'incremental', 'broken']).default('full'),
  accounts: z.string().optional(),
  environment: z.string().min(1).default('dev'),
  'instruments-csv': z.string().min(1).optional(),
  'instrument-db': z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  'instrument-db-expiry': z.enum(['text', 'date']).default('text'),
  'instruments-route': z.boolean().optional(),
  'state-file': z.string().min(1).optional(),
  rebalancer: z.boolean().default(false),
  'allowed-host': z.array(z.string().min(1)).default([]),
  'sim-token': z.string().min(16, 'at least 16 characters').optional(),
  sim: z.boolean().default(true),
  'strikes-per-side': z.coerce.number().int().min(1).max(1000).optional(),
  'underlying-shape': z.enum(['A', 'B', 'alternate']).default('alternate'),
  'log-level': z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  'latency-ms': z.coerce.number().int().min(0).default(0),
  'error-rate': z.coerce.number().min(0).max(1).default(0),
  'rate-limit-storm': z.boolean().default(false),
  stall: z.boolean().default(false),
  'stall-after-reload': z.boolean().default(false),
  'drop-events': z.coerce.number().min(0).max(1).default(0),
  'quirk-volume-zero': z.boolean().optional(),
  'quirk-ts-receive-time': z.boolean().optional(),
  'quirk-greeks-scaled': z.boolean().optional(),
  'quirk-depth-scaled': z.boolean().optional(),
  'quirk-is-mock-false': z.boolean().optional(),
  'quirk-greeks-need-index': z.boolean().optional(),
  'quirk-iv-nan': z.boolean().optional(),
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
        host: str,
        port: str,
        seed: str,
        clock: str,
        speed: str,
        'redis-url': str,
        'webhook-url': str,
        'webhook-secret': str,
        'redis-events': flag,
        reload: str,
        accounts: str,
        'strikes-per-side': str,
        'underlying-shape': str,
        'log-level': str,
        'latency-ms': str,
        'error-rate': str,
        'rate-limit-storm': flag,
        stall: flag,
        'stall-after-reload': flag,
        'drop-events': str,
        'quirk-volume-zero': flag,
        'quirk-ts-receive-time': flag,
        'quirk-greeks-scaled': flag,
        'quirk-depth-scaled': flag,
        'quirk-is-mock-false': flag,
        'quirk-greeks-need-index': flag,
        'quirk-iv-nan': flag,
        help: flag,
        profile: str,
        environment: str,
        'instruments-csv': str,
        'instrument-db': str,
        'instrument-db-expiry': str,
        'instruments-route': flag,
        'state-file': str,
        rebalancer: flag,
        'allowed-host': { type: 'string', multiple: true },
        'sim-token': str,
        sim: flag,
      },
      allowNegative: true,
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
  const logger = pino({ name: 'devticker', level: a['log-level'], redact: ['webhookSecret', '*.webhookSecret', 'simToken', '*.simToken'] });
  const faults: Partial<SimFaults> = {
    latencyMs: a['latency-ms'],
    errorRate: a['error-rate'],
    rateLimitStorm: a['rate-limit-storm'],
    stall: a.stall,
    stallAfterReload: a['stall-after-reload'],
    dropEventsRate: a['drop-events'],
  };
  // quirks: the profile's default unless a flag says otherwise
  for (const [flagName, key] of QUIRKS) {
    const v = a[flagName];
    if (v !== undefined) faults[key] = v;
  }
  const dt = await startDevTicker({
    profile: a.profile,
    host: a.host,
    port: a.port,
    seed: a.seed,
    clockMode: a.clock,
    speed: a.speed,
    redisUrl: a['redis-url'],
    webhookUrl: a['webhook-url'],
    webhookSecret: a['webhook-secret'],
    publishRedisEvents: a['redis-events'],
    reload: a.reload,
    accounts: a.accounts
      ? a.accounts
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    environment: a.environment,
    instrumentsCsvPath: a['instruments-csv'],
    instrumentDbUrl: a['instrument-db'],
    instrumentDbExpiryType: a['instrument-db-expiry'],
    instrumentsRoute: a['instruments-route'],
    stateFile: a['state-file'],
    rebalancer: a.rebalancer,
    allowedHosts: a['allowed-host'],
    simEndpoint: a.sim ? 'token' : 'off',
    simToken: a['sim-token'],
    strikesPerSide: a['strikes-per-side'],
    underlyingShape: a['underlying-shape'],
    faults,
    logger,
  });
  process.stdout.write(
    `devticker listening on ${dt.url} (profile ${a.profile}, reload ${a.reload}, clock ${a.clock}, seed ${a.seed}, ${dt.registry.live.length} instruments)\n` +
      (dt.simToken ? `devticker /_sim/ token: ${dt.simToken} (send it as header X-Sim-Token)\n` : 'devticker /_sim/ is off\n'),
  );
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
