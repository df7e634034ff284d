// The embedded devticker's control endpoint (/_sim/faults), found the way an operator would: the console's settings
// (ticker.url) or, before the settings service lands, the health report's devticker line.
import { randomBytes } from 'node:crypto';
import type { RunningConsole } from './console';

/**
 * The embedded devticker guards /_sim/ with a per-run token (DEVTICKER_SIM_TOKEN when set, else random): consoles
 * started by these specs get this one in their environment, and setFaults sends it.
 */
export const SIM_TOKEN = randomBytes(18).toString('base64url');

export async function devtickerUrl(sd: RunningConsole): Promise<string> {
  const settings = await sd.call('settings:get', {});
  if (settings.ok) return settings.value.ticker.url.replace(/\/$/, '');
  const health = await sd.call('health:get', {});
  if (health.ok) {
    for (const component of Object.values(health.value.components)) {
      const match = /https?:\/\/[^\s)]+/.exec(component.detail ?? '');
      if (match && /devticker|ticker/i.test(JSON.stringify(component))) return match[0].replace(/\/$/, '');
    }
  }
  throw new Error('cannot find the devticker URL in settings:get or health:get');
}

export async function setFaults(url: string, faults: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}/_sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Sim-Token': SIM_TOKEN },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`POST ${url}/_sim/faults: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}
