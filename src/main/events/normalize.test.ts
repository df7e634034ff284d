// The real service's Redis event messages (fixtures/ticker-service/redis-events.txt) through the console's parser:
// account_id may be null there, and a null must not turn an event into a 422.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeEvent, subscriptionEventSchema } from './normalize';

const lines = readFileSync(new URL('../../../fixtures/ticker-service/redis-events.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean);

describe('Redis event fixtures', () => {
  it('parses every fixture line, null account included, into a created and a removed event', () => {
    const events = lines.map((line) => {
      const parsed = subscriptionEventSchema.safeParse(JSON.parse(line));
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
      return normalizeEvent(parsed.data!, 'redis');
    });
    expect(events.map((e) => [e.type, e.token, e.tradingsymbol])).toEqual([
      ['created', 13660418, 'NIFTY25NOV24500CE'],
      ['removed', 13660418, 'NIFTY25NOV24500CE'],
    ]);
    // Epoch seconds on the wire, epoch ms inside.
    expect(events[0].occurredAt).toBe(1698860400_000);
  });
});
