// Every setting in one table: its name in the config file, the environment and the CLI, its schema and default.
// The README's configuration table is this table. Precedence: defaults < config file < environment < CLI.
import { z } from 'zod';
import { MIN_NAMED_TOKEN_LENGTH, namedTokensSchema, type NamedToken } from './operators';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.preprocess((v) => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
  }
  return v;
}, z.boolean());
const httpUrl = z.url({ protocol: /^https?$/ });

export interface SettingSpec {
  key: string;
  env: string;
  cli?: string;
  schema: z.ZodType;
  default?: unknown;
  expected: string;
  description: string;
}

export const SETTINGS = [
  {
    key: 'home',
    env: 'STRIKEDESK_HOME',
    cli: '--home',
    schema: z.string().min(1),
    expected: 'a directory path',
    description: 'Data directory (state.db, PGlite market store, generated secrets). Default: Electron userData, or ~/.strikedesk headless.',
  },
  {
    key: 'configFile',
    env: 'STRIKEDESK_CONFIG',
    cli: '--config',
    schema: z.string().min(1),
    expected: 'a JSON file path',
    description: 'Config file (JSON, keys as in the first column). Default: <home>/config.json if it exists.',
  },
  {
    key: 'host',
    env: 'STRIKEDESK_HOST',
    cli: '--host',
    schema: z.string().min(1),
    default: '127.0.0.1',
    expected: 'a host name or IP address',
    description: 'Bind address of the console HTTP server. A non-loopback bind requires STRIKEDESK_API_TOKEN and a webhook secret.',
  },
  {
    key: 'port',
    env: 'STRIKEDESK_PORT',
    cli: '--port',
    schema: port,
    default: 8081,
    expected: 'an integer 0-65535',
    description: 'Port of the console HTTP server (0 = any free port).',
  },
  {
    key: 'apiToken',
    env: 'STRIKEDESK_API_TOKEN',
    cli: '--api-token',
    schema: z.string().min(16, 'at least 16 characters'),
    expected: 'a string of at least 16 characters',
    description: 'Token for the headless API and UI. Default: a new random token per run, printed in the console URL.',
  },
  {
    key: 'apiTokens',
    env: 'STRIKEDESK_API_TOKENS',
    schema: namedTokensSchema,
    expected: `name:token pairs separated by commas, each token at least ${MIN_NAMED_TOKEN_LENGTH} characters`,
    description: `Named operator tokens for the headless API and UI, e.g. alice:TOKEN1,bob:TOKEN2 (tokens at least ${MIN_NAMED_TOKEN_LENGTH} characters, names unique): audit rows (flags, alert acknowledgements and silences, backfill jobs) record the operator's name. The console's own token (STRIKEDESK_API_TOKEN or the generated one) is recorded as the OS user who started it (os:USERNAME).`,
  },
  {
    key: 'tickerUrl',
    env: 'TICKER_URL',
    cli: '--ticker-url',
    schema: httpUrl,
    expected: 'an http(s) URL',
    description: 'Ticker service base URL. Unset: the bundled devticker runs in process.',
  },
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    cli: '--database-url',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
    expected: 'a postgres:// URL',
    description: 'Market store (PostgreSQL 15+, TimescaleDB used if present). Unset: embedded PGlite in <home>/market.',
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    cli: '--redis-url',
    schema: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
    expected: 'a redis:// URL',
    description: 'Redis for ticks and events (ticker:nifty:* channels). Unset: the in-process bus of the embedded devticker.',
  },
  {
    key: 'webhookSecret',
    env: 'STRIKEDESK_WEBHOOK_SECRET',
    cli: '--webhook-secret',
    schema: z.string().min(16, 'at least 16 characters'),
    expected: 'a string of at least 16 characters',
    description: 'HMAC secret for POST /internal/subscription-events. Unset: generated on first run and stored in the state store.',
  },
  {
    key: 'webhookAcceptPlainHeader',
    env: 'STRIKEDESK_WEBHOOK_ACCEPT_PLAIN',
    schema: bool,
    default: false,
    expected: 'true or false',
    description: "Also accept the real ticker service's plain X-Webhook-Secret header.",
  },
  {
    key: 'webhookToleranceSeconds',
    env: 'STRIKEDESK_WEBHOOK_TOLERANCE',
    schema: z.coerce.number().int().min(10).max(3600),
    default: 300,
    expected: 'seconds, 10-3600',
    description: 'Accepted clock skew of signed webhook deliveries.',
  },
  {
    key: 'pollIntervalSeconds',
    env: 'STRIKEDESK_POLL_INTERVAL',
    schema: z.coerce.number().int().min(1).max(3600),
    default: 15,
    expected: 'seconds, 1-3600',
    description: 'Poll reconciler period (diff of active subscriptions).',
  },
  {
    key: 'backfillIntervalMinutes',
    env: 'STRIKEDESK_BACKFILL_INTERVAL',
    schema: z.coerce.number().int().min(1).max(1440),
    default: 5,
    expected: 'minutes, 1-1440',
    description: 'Scheduled backfill cycle period.',
  },
  {
    key: 'backfillLookbackMinutes',
    env: 'STRIKEDESK_BACKFILL_LOOKBACK',
    schema: z.coerce
      .number()
      .int()
      .min(15)
      .max(60 * 24 * 30),
    default: 375,
    expected: 'minutes, 15-43200',
    description: 'Look-back window of the backfill planner, in session minutes (375 = one session).',
  },
  {
    key: 'underlyings',
    env: 'STRIKEDESK_UNDERLYINGS',
    schema: z.preprocess(
      (v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim().toUpperCase())
              .filter(Boolean)
          : v,
      z.array(z.string().regex(/^[A-Z0-9&-]+$/)).min(1),
    ),
    default: ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY'],
    expected: 'a comma list of underlying names',
    description: 'Underlyings the console offers and backfills when the subscription list cannot be had.',
  },
  {
    key: 'strikesEachSide',
    env: 'STRIKEDESK_STRIKES_EACH_SIDE',
    schema: z.coerce.number().int().min(1).max(100),
    default: 10,
    expected: 'an integer 1-100',
    description: 'Strikes each side of ATM that an on-demand chain subscription covers.',
  },
  {
    key: 'subscriptionIdleMinutes',
    env: 'STRIKEDESK_SUBSCRIPTION_IDLE_TTL',
    schema: z.coerce.number().int().min(1).max(1440),
    default: 30,
    expected: 'minutes, 1-1440',
    description: 'Auto-subscriptions nobody has asked for in this long are released (only those Strikedesk made).',
  },
  {
    key: 'instrumentsSource',
    env: 'STRIKEDESK_INSTRUMENTS',
    cli: '--instruments',
    schema: z.string().trim().min(1),
    default: 'auto',
    expected: "'auto', 'table', 'ticker', a Kite CSV path or an http(s) URL",
    description:
      "Instrument registry source. 'auto': with TICKER_URL set, the ticker's instrument_registry table (see STRIKEDESK_INSTRUMENT_DATABASE_URL); unset, the embedded devticker's registry. 'table': that table. A path or URL: a Kite instruments CSV (plain or gzipped). 'ticker': the devticker's /instruments extension (the real service has none). Start-up fails if the source cannot be read.",
  },
  {
    key: 'instrumentDatabaseUrl',
    env: 'STRIKEDESK_INSTRUMENT_DATABASE_URL',
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
    expected: 'a postgres:// URL',
    description:
      "Database holding the ticker service's instrument_registry table (its INSTRUMENT_DB_*; expiry TEXT or DATE). Default: DATABASE_URL. Read only.",
  },
  {
    key: 'acceptMockTicks',
    env: 'STRIKEDESK_ACCEPT_MOCK_TICKS',
    schema: bool,
    default: true,
    expected: 'true or false',
    description:
      'Store mock ticks: ticks outside an exchange session by the holiday calendar (the real service streams mock ticks then, flagged is_mock false) or flagged is_mock.',
  },
  {
    key: 'sourceGreeks',
    env: 'STRIKEDESK_SOURCE_GREEKS',
    schema: z.enum(['scaled', 'true']),
    default: 'scaled',
    expected: "'scaled' or 'true'",
    description:
      "What the ticker service publishes for theta and vega: 'scaled' (theta / 365 and vega / 100, as the real service does on live ticks and history candles) or 'true' (per calendar day, per volatility point). Greeks are rescaled to true units on the way in.",
  },
  {
    key: 'devtickerPort',
    env: 'STRIKEDESK_DEVTICKER_PORT',
    schema: port,
    default: 8080,
    expected: 'an integer 0-65535',
    description: 'Port of the embedded devticker (when TICKER_URL is unset).',
  },
  {
    key: 'devtickerClock',
    env: 'STRIKEDESK_DEVTICKER_CLOCK',
    schema: z.enum(['auto', 'real', 'always-open']),
    default: 'auto',
    expected: "'auto', 'real' or 'always-open'",
    description: "Embedded devticker clock. 'auto' streams outside market hours too, so a new user sees data.",
  },
  {
    key: 'devtickerSeed',
    env: 'STRIKEDESK_DEVTICKER_SEED',
    schema: z.coerce.number().int().min(0),
    default: 42,
    expected: 'a non-negative integer',
    description: 'Seed of the embedded devticker market model.',
  },
  {
    key: 'logLevel',
    env: 'STRIKEDESK_LOG_LEVEL',
    cli: '--log-level',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    expected: 'fatal|error|warn|info|debug|trace|silent',
    description: 'Log level (pino, JSON lines on stdout).',
  },
  {
    key: 'headless',
    env: 'STRIKEDESK_HEADLESS',
    cli: '--headless',
    schema: bool,
    default: false,
    expected: 'true or false',
    description: 'Run without a window even where Electron can run (npm run serve).',
  },
] as const satisfies readonly SettingSpec[];

export interface Config {
  home: string;
  configFile?: string;
  host: string;
  port: number;
  apiToken?: string;
  /** STRIKEDESK_API_TOKENS: each operator's token and name (the actor in audit rows). */
  apiTokens?: NamedToken[];
  tickerUrl?: string;
  databaseUrl?: string;
  redisUrl?: string;
  webhookSecret?: string;
  webhookAcceptPlainHeader: boolean;
  webhookToleranceSeconds: number;
  pollIntervalSeconds: number;
  backfillIntervalMinutes: number;
  backfillLookbackMinutes: number;
  underlyings: string[];
  strikesEachSide: number;
  subscriptionIdleMinutes: number;
  instrumentsSource: string;
  instrumentDatabaseUrl?: string;
  acceptMockTicks: boolean;
  sourceGreeks: 'scaled' | 'true';
  devtickerPort: number;
  devtickerClock: 'auto' | 'real' | 'always-open';
  devtickerSeed: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  headless: boolean;
}
