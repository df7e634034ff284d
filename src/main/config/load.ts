// Builds the Config from defaults < config file < environment < CLI. A bad value stops start-up with ONE line
// naming the setting (as the user wrote it: env name, CLI flag or config key) and the expected form.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { redactUrl } from '../log';
import { SETTINGS, type Config, type SettingSpec } from './settings';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  /** Default data directory when none is set (Electron passes its userData path). */
  defaultHome?: string;
}

/** Parses `--name value` and `--name=value`; a bare boolean flag (`--headless`) means true. */
export function parseCli(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const known = new Set(SETTINGS.map((s) => (s as SettingSpec).cli).filter(Boolean));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(name)) {
      // Electron and Chromium add their own switches; only our flags are ours to judge.
      continue;
    }
    if (eq > 0) out.set(name, arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(name, argv[++i]);
    else out.set(name, 'true');
  }
  return out;
}

/** Settings whose value is a secret: an error names the setting but never echoes the value. */
const SECRET_SETTINGS = new Set(['apiToken', 'apiTokens', 'webhookSecret']);
/** Settings that are URLs and may carry credentials (user:password@, ?password=): echoed with those masked. */
const URL_SETTINGS = new Set(['databaseUrl', 'redisUrl', 'tickerUrl', 'instrumentsSource']);

function describeInput(key: string, value: unknown): string {
  if (SECRET_SETTINGS.has(key)) return typeof value === 'string' ? `*** (${value.length} characters)` : '***';
  let text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (URL_SETTINGS.has(key)) text = redactUrl(text) ?? '';
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** A schema's own explanation (never the value: operators.ts names entries by position), e.g. "; entry 2 (bob): ...". */
function customIssue(error: { issues: readonly { code: string; message: string }[] }): string {
  const issue = error.issues.find((i) => i.code === 'custom');
  return issue ? `; ${issue.message}` : '';
}

/** A JSON.parse error without the quoted file text (the file may hold secrets): "at position N" only. */
function jsonErrorWithoutText(err: Error): string {
  const position = /position (\d+)/.exec(err.message);
  return position ? `invalid JSON at position ${position[1]}` : err instanceof SyntaxError ? 'invalid JSON' : err.message;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const cli = parseCli(sources.argv ?? []);
  const raw: Record<string, { value: unknown; origin: string }> = {};

  const fromEnvOrCli = (spec: SettingSpec): { value: unknown; origin: string } | undefined => {
    if (spec.cli && cli.has(spec.cli)) return { value: cli.get(spec.cli), origin: spec.cli };
    const envValue = env[spec.env];
    if (envValue !== undefined && envValue !== '') return { value: envValue, origin: spec.env };
    return undefined;
  };

  // The home and the config file decide where the rest may come from, so they resolve first.
  const homeSpec = SETTINGS.find((s) => s.key === 'home') as SettingSpec;
  const home = (fromEnvOrCli(homeSpec)?.value as string | undefined) ?? sources.defaultHome ?? join(homedir(), '.strikedesk');
  const configSpec = SETTINGS.find((s) => s.key === 'configFile') as SettingSpec;
  const explicitConfig = fromEnvOrCli(configSpec);
  const configPath = (explicitConfig?.value as string | undefined) ?? join(home, 'config.json');
  let fileValues: Record<string, unknown> = {};
  if (existsSync(configPath)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(configPath, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      fileValues = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration: ${explicitConfig?.origin ?? 'config file'} ${configPath} must be a JSON object (${jsonErrorWithoutText(err as Error)})`,
      );
    }
    const knownKeys = new Set(SETTINGS.map((s) => s.key));
    for (const key of Object.keys(fileValues)) {
      if (!knownKeys.has(key as never)) throw new ConfigError(`Invalid configuration: unknown key "${key}" in ${configPath}`);
    }
  } else if (explicitConfig) {
    throw new ConfigError(`Invalid configuration: ${explicitConfig.origin} points to ${configPath}, which does not exist`);
  }

  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const chosen = fromEnvOrCli(spec);
    if (chosen) raw[spec.key] = chosen;
    else if (spec.key in fileValues) raw[spec.key] = { value: fileValues[spec.key], origin: `${spec.key} in ${configPath}` };
  }
  raw.home = { value: home, origin: homeSpec.env };
  if (existsSync(configPath)) raw.configFile = { value: configPath, origin: configSpec.env };

  const config: Partial<Config> = {};
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const entry = raw[spec.key];
    if (!entry) {
      if (spec.default !== undefined) Object.assign(config, { [spec.key]: spec.default });
      continue;
    }
    const parsed = spec.schema.safeParse(entry.value);
    if (!parsed.success) {
      throw new ConfigError(
        `Invalid configuration: ${entry.origin} must be ${spec.expected} (got "${describeInput(spec.key, entry.value)}")${customIssue(parsed.error)}`,
      );
    }
    Object.assign(config, { [spec.key]: parsed.data });
  }
  if (!isComplete(config)) throw new Error('settings table: a setting without a default and without a value is not optional in Config');
  checkCombinations(config);
  return config;
}

/**
 * Each value was parsed by its own setting's schema above, so the object is a Config once every setting that has a
 * default holds a value (the others are the optional fields of Config).
 */
function isComplete(config: Partial<Config>): config is Config {
  return (SETTINGS as readonly SettingSpec[]).every((spec) => spec.default === undefined || spec.key in config);
}

/**
 * True for an address that only this machine can reach: `localhost`, 127.0.0.0/8, ::1 (and ::ffff:127.x.x.x), judged
 * on the parsed IP, so a name such as `127.attacker.example` is not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return h.split('.')[0] === '127';
  if (family === 6) {
    if (/^(0{0,4}:){7}0{0,3}1$/.test(h) || h === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped ? isLoopbackHost(mapped[1]) : false;
  }
  return false;
}

function checkCombinations(config: Config): void {
  if (!isLoopbackHost(config.host)) {
    if (!config.apiToken) {
      throw new ConfigError(`Invalid configuration: STRIKEDESK_HOST=${config.host} is not a loopback address, so STRIKEDESK_API_TOKEN must be set`);
    }
    if (!config.webhookSecret) {
      throw new ConfigError(`Invalid configuration: STRIKEDESK_HOST=${config.host} is not a loopback address, so STRIKEDESK_WEBHOOK_SECRET must be set`);
    }
  }
}
