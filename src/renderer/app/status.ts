// What the top bar says about the console as a whole: the push connection first (nothing else is trustworthy
// without it), then the health report. A green light only when both are good.
import type { HealthReport } from '../../shared/api';
import type { ConnectionState } from '../api/transport';
import type { Tone } from '../components/Bits';

export interface OverallStatus {
  tone: Tone;
  label: string;
  detail: string;
}

export const CONNECTION_WORDS: Record<ConnectionState, { label: string; detail: string }> = {
  connecting: { label: 'connecting', detail: 'Opening the update stream to the console.' },
  open: { label: 'live', detail: 'Updates from the console are flowing.' },
  lost: { label: 'reconnecting', detail: 'The update stream dropped; the console still answers and the page reconnects by itself.' },
  unauthorized: { label: 'not signed in (401)', detail: 'The console refused this page’s API token: open the URL it printed at start-up (…/?token=…).' },
  unreachable: {
    label: 'console unreachable',
    detail: 'The console does not answer: it stopped or the network is down. Start it again; the page reconnects by itself.',
  },
};

export function overallStatus(connection: ConnectionState, health: HealthReport | undefined): OverallStatus {
  if (connection !== 'open') {
    const words = CONNECTION_WORDS[connection];
    return { tone: connection === 'connecting' ? 'muted' : connection === 'lost' ? 'warn' : 'bad', ...words };
  }
  if (!health) return { tone: 'muted', label: 'live · health unknown', detail: 'Updates flow; the health report has not answered yet.' };
  const bad = Object.entries(health.components).filter(([, c]) => c.status === 'down' || c.status === 'degraded');
  if (health.status === 'ok' && bad.length === 0) return { tone: 'ok', label: 'live · healthy', detail: 'Updates flow and every component reports ok.' };
  const down = bad.filter(([, c]) => c.status === 'down');
  const names = bad.map(([name, c]) => `${name} ${c.status}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
  return {
    tone: down.length ? 'bad' : 'warn',
    label: `live · ${down.length ? 'down' : 'degraded'}: ${bad.map(([name]) => name).join(', ') || 'see Settings'}`,
    detail: names || 'The health report says degraded.',
  };
}
