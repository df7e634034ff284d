// Alerts: what is firing, the history, and the thresholds (editable with a reason, like a flag).
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { AlertThresholds, AlertView } from '../../../shared/api';
import { useAlerts, useSetThresholds } from '../../api/metrics';
import { Badge, Section } from '../../components/Bits';
import { Dialog } from '../../components/Dialog';
import { InlineError, QueryView } from '../../components/States';
import { istDateTime } from '../../format/time';

export function AlertsPanel({ thresholds }: { thresholds: AlertThresholds | null }) {
  const alerts = useAlerts();
  const [editing, setEditing] = useState(false);
  return (
    <Section
      title="Alerts"
      id="alerts-title"
      actions={
        <button type="button" disabled={!thresholds} onClick={() => setEditing(true)}>
          Edit thresholds…
        </button>
      }
    >
      <QueryView query={alerts} what="alerts">
        {(list) => <AlertTable alerts={[...list.active, ...list.history.filter((h) => !list.active.some((a) => a.id === h.id))]} />}
      </QueryView>
      {editing && thresholds && <ThresholdDialog current={thresholds} onClose={() => setEditing(false)} />}
    </Section>
  );
}

function AlertTable({ alerts }: { alerts: AlertView[] }) {
  if (alerts.length === 0) return <p className="muted">No alert has fired.</p>;
  return (
    <div className="table-scroll short">
      <table className="table" data-testid="alerts-table">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">State</th>
            <th scope="col">Message</th>
            <th scope="col">Fired</th>
            <th scope="col">Resolved</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id}>
              <td className="mono">{a.rule}</td>
              <td>
                <Badge tone={a.state === 'firing' ? 'bad' : 'ok'}>{a.state}</Badge>
              </td>
              <td className="wrap">{a.message}</td>
              <td className="nowrap small">{istDateTime(a.firedAt)}</td>
              <td className="nowrap small">{a.resolvedAt ? istDateTime(a.resolvedAt) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const FIELDS: { key: keyof AlertThresholds; label: string; step: number; min: number; max: number }[] = [
  { key: 'autoSubscribeFailureRatio', label: 'Auto-subscribe failure ratio (0–1)', step: 0.01, min: 0, max: 1 },
  { key: 'autoSubscribeWindowMinutes', label: 'Failure window (minutes)', step: 1, min: 1, max: 1440 },
  { key: 'timeToDataSeconds', label: 'Time to data (seconds)', step: 1, min: 1, max: 3600 },
  { key: 'subscriptionCallsPerHour', label: 'Subscription API calls per hour', step: 1, min: 1, max: 1_000_000 },
];

function ThresholdDialog({ current, onClose }: { current: AlertThresholds; onClose: () => void }) {
  const [draft, setDraft] = useState<Record<keyof AlertThresholds, string>>(() => Object.fromEntries(FIELDS.map((f) => [f.key, String(current[f.key])])) as Record<keyof AlertThresholds, string>);
  const [reason, setReason] = useState('');
  const save = useSetThresholds();
  const client = useQueryClient();
  const values = Object.fromEntries(FIELDS.map((f) => [f.key, Number(draft[f.key])])) as unknown as AlertThresholds;
  const valid = FIELDS.every((f) => draft[f.key].trim() !== '' && Number.isFinite(values[f.key]) && values[f.key] >= f.min && values[f.key] <= f.max) && reason.trim().length >= 3;
  const changed = Object.fromEntries(FIELDS.filter((f) => values[f.key] !== current[f.key]).map((f) => [f.key, values[f.key]]));
  return (
    <Dialog title="Alert thresholds" open onClose={onClose} labelId="thresholds-title">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!valid) return;
          save.mutate(
            { ...changed, reason: reason.trim() },
            {
              onSuccess: () => {
                // The summary carries the thresholds its charts draw.
                void client.invalidateQueries({ queryKey: ['metrics:summary'] });
                onClose();
              },
            },
          );
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.key} className="field">
            <span>{f.label}</span>
            <input type="number" step={f.step} min={f.min} max={f.max} value={draft[f.key]} onChange={(e) => setDraft((d) => ({ ...d, [f.key]: e.target.value }))} />
          </label>
        ))}
        <label className="field">
          <span>Reason (required)</span>
          <textarea rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <InlineError error={save.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid || Object.keys(changed).length === 0 || save.isPending}>
            {save.isPending ? 'Saving…' : 'Save thresholds'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
