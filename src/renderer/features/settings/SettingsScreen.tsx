// Settings: where the webhook is and its secret (reveal / copy, for configuring the ticker service), how events
// come in, which ticker and market store this console uses, and the health of each component.
import { useState } from 'react';
import type { HealthReport, SettingsView } from '../../../shared/api';
import { useHealth, useSettings } from '../../api/settings';
import { Badge, Section, type Tone } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { istDateTime } from '../../format/time';

export function SettingsScreen() {
  const settings = useSettings();
  const health = useHealth();
  return (
    <div className="screen" data-screen="settings">
      <Section title="Settings" id="settings-title">
        <QueryView query={settings} what="settings (event intake service)">
          {(view) => <SettingsList view={view} />}
        </QueryView>
      </Section>
      <Section title="Health" id="health-title">
        <QueryView query={health} what="health">
          {(report) => <HealthTable report={report} />}
        </QueryView>
      </Section>
    </div>
  );
}

function SettingsList({ view }: { view: SettingsView }) {
  return (
    <dl className="settings-list">
      <dt>Webhook URL</dt>
      <dd className="mono">{view.webhook.url}</dd>
      <dt>Webhook secret</dt>
      <dd>
        {view.webhook.secret === null ? (
          <span className="muted" data-testid="webhook-secret-withheld">
            withheld from named operator tokens: ask the console&rsquo;s owner
          </span>
        ) : (
          <Secret value={view.webhook.secret} />
        )}
        <span className="muted small"> from {view.webhook.secretSource}</span>
      </dd>
      <dt>Plain X-Webhook-Secret header</dt>
      <dd>{view.webhook.acceptPlainHeader ? 'accepted (the ticker service’s current style)' : 'refused: HMAC signature required'}</dd>
      <dt>Signature tolerance</dt>
      <dd>{view.webhook.toleranceSeconds} s</dd>
      <dt>Redis events</dt>
      <dd>{view.intake.redis ? 'listening' : 'off (no REDIS_URL)'}</dd>
      <dt>Poll reconciler</dt>
      <dd>every {view.intake.pollIntervalSeconds} s</dd>
      <dt>Ticker service</dt>
      <dd>
        <span className="mono" data-testid="ticker-url">
          {view.ticker.url}
        </span>{' '}
        {view.ticker.embedded && <Badge tone="info">embedded devticker</Badge>}
      </dd>
      <dt>Market store</dt>
      <dd>
        {view.market.backend === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)'}
        {view.market.timescale ? ' + TimescaleDB' : ''}
      </dd>
      <dt>Data directory</dt>
      <dd className="mono">{view.dataDir}</dd>
    </dl>
  );
}

function Secret({ value }: { value: string }) {
  const [revealed, setRevealed] = useState(false);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  return (
    <span className="secret">
      <code data-testid="webhook-secret">{revealed ? value : '•'.repeat(Math.min(24, Math.max(8, value.length)))}</code>
      <button type="button" onClick={() => setRevealed((r) => !r)} aria-pressed={revealed}>
        {revealed ? 'Hide' : 'Reveal'}
      </button>
      <button type="button" onClick={copy}>
        Copy
      </button>
      <span role="status" className="small muted">
        {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Clipboard not available: reveal and select it' : ''}
      </span>
    </span>
  );
}

const HEALTH_TONE: Record<string, Tone> = { ok: 'ok', degraded: 'warn', down: 'bad', disabled: 'muted', starting: 'info' };

function HealthTable({ report }: { report: HealthReport }) {
  return (
    <>
      <p>
        Overall <Badge tone={HEALTH_TONE[report.status]}>{report.status}</Badge>{' '}
        <span className="muted small">
          version {report.version} · {istDateTime(report.timestamp)}
        </span>
      </p>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Component</th>
            <th scope="col">Status</th>
            <th scope="col">Detail</th>
            <th scope="col">Last event</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(report.components).map(([name, component]) => (
            <tr key={name}>
              <td className="mono">{name}</td>
              <td>
                <Badge tone={HEALTH_TONE[component.status] ?? 'muted'}>{component.status}</Badge>
              </td>
              <td className="small wrap">{component.detail ?? ''}</td>
              <td className="small nowrap">{component.lastEventAt ? istDateTime(component.lastEventAt) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
