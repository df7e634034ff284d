// Alerts: what is firing, the history, and the thresholds (editable with a reason, like a flag). An operator
// acknowledges a firing (who took it, why) or silences its rule for a while (who, why, until when); the banner
// leaves silenced alerts out. Threshold changes are listed with who changed what and why.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { AlertRule, AlertSilence, AlertThresholds, AlertView, ThresholdAuditEntry } from '../../../shared/api';
import { useAcknowledgeAlert, useAlerts, useSetThresholds, useSilenceRule, useThresholdAudit, useUnsilenceRule } from '../../api/metrics';
import { Badge, Section } from '../../components/Bits';
import { Dialog } from '../../components/Dialog';
import { InlineError, QueryView } from '../../components/States';
import { istDateTime } from '../../format/time';

type Answering = { kind: 'ack'; alert: AlertView } | { kind: 'silence'; rule: AlertRule };

export function AlertsPanel({ thresholds }: { thresholds: AlertThresholds | null }) {
  const alerts = useAlerts();
  const [editing, setEditing] = useState(false);
  const [answering, setAnswering] = useState<Answering | null>(null);
  return (
    <>
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
          {(list) => (
            <>
              <SilenceList silences={list.silences ?? []} />
              <AlertTable alerts={[...list.active, ...list.history.filter((h) => !list.active.some((a) => a.id === h.id))]} onAnswer={setAnswering} />
            </>
          )}
        </QueryView>
        {editing && thresholds && <ThresholdDialog current={thresholds} onClose={() => setEditing(false)} />}
        {answering?.kind === 'ack' && <AcknowledgeDialog alert={answering.alert} onClose={() => setAnswering(null)} />}
        {answering?.kind === 'silence' && <SilenceDialog rule={answering.rule} onClose={() => setAnswering(null)} />}
      </Section>
      <ThresholdAudit />
    </>
  );
}

function SilenceList({ silences }: { silences: AlertSilence[] }) {
  const lift = useUnsilenceRule();
  if (silences.length === 0) return null;
  return (
    <div className="silences" data-testid="silences">
      <h3>Silenced rules</h3>
      <ul>
        {silences.map((s) => (
          <li key={s.id} data-rule={s.rule}>
            <span className="mono">{s.rule}</span> silenced by <strong>{s.by}</strong> until {istDateTime(s.until)}: “{s.reason}”{' '}
            <span className="muted small">(since {istDateTime(s.at)})</span>{' '}
            <button type="button" onClick={() => lift.mutate({ rule: s.rule })} disabled={lift.isPending} aria-label={`Lift the silence on ${s.rule}`}>
              Lift silence
            </button>
          </li>
        ))}
      </ul>
      <InlineError error={lift.error} />
    </div>
  );
}

function AlertTable({ alerts, onAnswer }: { alerts: AlertView[]; onAnswer: (a: Answering) => void }) {
  if (alerts.length === 0) return <p className="muted">No alert has fired.</p>;
  return (
    <div className="table-scroll short" tabIndex={0} role="region" aria-label="Alert history">
      <table className="table" data-testid="alerts-table">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">State</th>
            <th scope="col">Message</th>
            <th scope="col">Fired</th>
            <th scope="col">Resolved</th>
            <th scope="col">Answered</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} data-alert-id={a.id} data-state={a.state}>
              <td className="mono">{a.rule}</td>
              <td>
                <Badge tone={a.state === 'firing' ? (a.silence ? 'muted' : 'bad') : 'ok'}>
                  {a.state === 'firing' && a.silence ? 'firing (silenced)' : a.state}
                </Badge>
              </td>
              <td className="wrap">{a.message}</td>
              <td className="nowrap small">{istDateTime(a.firedAt)}</td>
              <td className="nowrap small">{a.resolvedAt ? istDateTime(a.resolvedAt) : '–'}</td>
              <td className="wrap small" data-testid="alert-answer">
                {a.acknowledged ? (
                  <div>
                    Acknowledged by <strong>{a.acknowledged.by}</strong> {istDateTime(a.acknowledged.at)}: “{a.acknowledged.reason}”
                  </div>
                ) : null}
                {a.silence ? (
                  <div>
                    Silenced by <strong>{a.silence.by}</strong> until {istDateTime(a.silence.until)}: “{a.silence.reason}”
                  </div>
                ) : null}
                {!a.acknowledged && !a.silence ? <span className="muted">–</span> : null}
              </td>
              <td className="nowrap">
                {a.state === 'firing' && !a.acknowledged && (
                  <button type="button" onClick={() => onAnswer({ kind: 'ack', alert: a })} aria-label={`Acknowledge alert ${a.id} (${a.rule})`}>
                    Acknowledge…
                  </button>
                )}{' '}
                {a.state === 'firing' && !a.silence && (
                  <button type="button" onClick={() => onAnswer({ kind: 'silence', rule: a.rule })} aria-label={`Silence rule ${a.rule}`}>
                    Silence…
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AcknowledgeDialog({ alert, onClose }: { alert: AlertView; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const ack = useAcknowledgeAlert();
  const valid = reason.trim().length >= 3;
  return (
    <Dialog title={`Acknowledge ${alert.rule}`} open onClose={onClose} labelId="ack-title">
      <p className="small muted">{alert.message}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) ack.mutate({ id: alert.id, reason: reason.trim() }, { onSuccess: onClose });
        }}
      >
        <label className="field">
          <span>Reason (required): what you are doing about it</span>
          <textarea rows={2} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        </label>
        <InlineError error={ack.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid || ack.isPending}>
            {ack.isPending ? 'Saving…' : 'Acknowledge'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const SILENCE_FOR = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 240, label: '4 hours' },
  { minutes: 1440, label: '1 day' },
];

function SilenceDialog({ rule, onClose }: { rule: AlertRule; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState(60);
  const silence = useSilenceRule();
  const valid = reason.trim().length >= 3;
  return (
    <Dialog title={`Silence ${rule}`} open onClose={onClose} labelId="silence-title">
      <p className="small muted">While silenced, this rule does not raise the banner or a desktop notification; it is still listed here.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) silence.mutate({ rule, reason: reason.trim(), minutes }, { onSuccess: onClose });
        }}
      >
        <label className="field">
          <span>Silence for</span>
          <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
            {SILENCE_FOR.map((o) => (
              <option key={o.minutes} value={o.minutes}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Reason (required)</span>
          <textarea rows={2} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        </label>
        <InlineError error={silence.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid || silence.isPending}>
            {silence.isPending ? 'Saving…' : 'Silence'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const THRESHOLD_LABEL: Record<keyof AlertThresholds, string> = {
  autoSubscribeFailureRatio: 'Auto-subscribe failure ratio',
  autoSubscribeWindowMinutes: 'Failure window (min)',
  timeToDataSeconds: 'Time to data (s)',
  subscriptionCallsPerHour: 'Subscription calls per hour',
};

function ThresholdAudit() {
  const audit = useThresholdAudit();
  return (
    <Section title="Threshold changes" id="threshold-audit-title">
      <QueryView query={audit} what="threshold changes">
        {(rows: ThresholdAuditEntry[]) =>
          rows.length === 0 ? (
            <p className="muted">The thresholds are the defaults: nobody has changed them.</p>
          ) : (
            <div className="table-scroll short" tabIndex={0} role="region" aria-label="Threshold changes">
              <table className="table" data-testid="threshold-audit">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Threshold</th>
                    <th scope="col" className="num">
                      Old
                    </th>
                    <th scope="col" className="num">
                      New
                    </th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={`${r.at}-${r.key}-${i}`}>
                      <td className="nowrap small">{istDateTime(r.at)}</td>
                      <td className="mono">{r.actor}</td>
                      <td>{THRESHOLD_LABEL[r.key] ?? r.key}</td>
                      <td className="num">{r.oldValue}</td>
                      <td className="num">{r.newValue}</td>
                      <td className="wrap">{r.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </Section>
  );
}

const FIELDS: { key: keyof AlertThresholds; label: string; step: number; min: number; max: number }[] = [
  { key: 'autoSubscribeFailureRatio', label: 'Auto-subscribe failure ratio (0–1)', step: 0.01, min: 0, max: 1 },
  { key: 'autoSubscribeWindowMinutes', label: 'Failure window (minutes)', step: 1, min: 1, max: 1440 },
  { key: 'timeToDataSeconds', label: 'Time to data (seconds)', step: 1, min: 1, max: 3600 },
  { key: 'subscriptionCallsPerHour', label: 'Subscription API calls per hour', step: 1, min: 1, max: 1_000_000 },
];

function ThresholdDialog({ current, onClose }: { current: AlertThresholds; onClose: () => void }) {
  const [draft, setDraft] = useState<Record<keyof AlertThresholds, string>>(
    () => Object.fromEntries(FIELDS.map((f) => [f.key, String(current[f.key])])) as Record<keyof AlertThresholds, string>,
  );
  const [reason, setReason] = useState('');
  const save = useSetThresholds();
  const client = useQueryClient();
  const values = Object.fromEntries(FIELDS.map((f) => [f.key, Number(draft[f.key])])) as unknown as AlertThresholds;
  const valid =
    FIELDS.every((f) => draft[f.key].trim() !== '' && Number.isFinite(values[f.key]) && values[f.key] >= f.min && values[f.key] <= f.max) &&
    reason.trim().length >= 3;
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
            <input
              type="number"
              step={f.step}
              min={f.min}
              max={f.max}
              value={draft[f.key]}
              onChange={(e) => setDraft((d) => ({ ...d, [f.key]: e.target.value }))}
            />
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
