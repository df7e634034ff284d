// The layering rules of docs/architecture.md are enforced by lint: ESLint, with the repository's own configuration,
// reports an import that points up a layer (or out of the devticker) and accepts one that points down. The files
// linted here do not exist; lintText lints the text as if it were at that path, which is what selects the rules.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

/** The no-restricted-imports messages ESLint gives `code` as the file at `path` (relative to the repository). */
async function layeringErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

describe('lint enforces the layers', () => {
  it('refuses a service importing the HTTP layer, the api layer or the composition root', async () => {
    expect(await layeringErrors('src/main/events/fixture.ts', "import { HttpError } from '../http/server';\nexport const e = HttpError;\n")).toEqual([
      expect.stringContaining('layer "domain services" may import only its own layer and those below it'),
    ]);
    expect(await layeringErrors('src/main/subscriptions/fixture.ts', "import type { PushHub } from '../api/push';\nexport type P = PushHub;\n")).toHaveLength(
      1,
    );
    expect(await layeringErrors('src/main/backfill/fixture.ts', "import type { AppServices } from '../app/app';\nexport type A = AppServices;\n")).toHaveLength(
      1,
    );
  });

  it('refuses a store importing a service, and the api layer importing HTTP', async () => {
    expect(await layeringErrors('src/main/market/fixture.ts', "export { SubscriptionManager } from '../subscriptions/manager';\n")).toEqual([
      expect.stringContaining('layer "state and market"'),
    ]);
    expect(await layeringErrors('src/main/api/fixture.ts', "import { HttpServer } from '../http/server';\nexport const s = HttpServer;\n")).toEqual([
      expect.stringContaining('layer "api"'),
    ]);
    expect(await layeringErrors('src/main/log.ts', "import { ConsoleApi } from './api/console-api';\nexport const c = ConsoleApi;\n")).toEqual([
      expect.stringContaining('layer "foundation"'),
    ]);
  });

  it('lets only the app embed the devticker, and keeps the devticker off the console', async () => {
    expect(
      await layeringErrors('src/main/feed/fixture.ts', "import { startDevTicker } from '../../devticker';\nexport const s = startDevTicker;\n"),
    ).toHaveLength(1);
    expect(await layeringErrors('src/main/app/fixture.ts', "import { startDevTicker } from '../../devticker';\nexport const s = startDevTicker;\n")).toEqual(
      [],
    );
    expect(
      await layeringErrors('src/devticker/fixture.ts', "import { loadAppCalendar } from '../main/calendar';\nexport const l = loadAppCalendar;\n"),
    ).toEqual([expect.stringContaining('the devticker depends only on src/shared')]);
    expect(await layeringErrors('src/devticker/fixture.ts', "import { systemClock } from '../shared/clock';\nexport const c = systemClock;\n")).toEqual([]);
  });

  it('accepts imports that point down or stay in the layer', async () => {
    const down = [
      [
        'src/main/events/fixture.ts',
        "import type { Telemetry } from '../metrics/telemetry';\nimport type { StateStore } from '../state/store';\nimport { scopedLogger } from '../log';\nexport type T = [Telemetry, StateStore, typeof scopedLogger];\n",
      ],
      [
        'src/main/http/fixture.ts',
        "import { STATUS_OF } from '../api/console-api';\nimport type { EventIntake } from '../events/intake';\nexport type T = [typeof STATUS_OF, EventIntake];\n",
      ],
      ['src/main/api/fixture.ts', "import type { BackfillService } from '../backfill/service';\nexport type B = BackfillService;\n"],
      ['src/main/app/fixture.ts', "import { HttpServer } from '../http/server';\nexport const s = HttpServer;\n"],
    ];
    for (const [path, code] of down) expect(await layeringErrors(path, code), path).toEqual([]);
  });
});
