// Flags: every change is confirmed with a required reason (LaunchDarkly-style), pinned flags are shown with the
// environment variable that pins them and cannot be changed here, and the audit log says who changed what and why.
import { useState } from 'react';
import type { FlagAuditEntry, FlagView } from '../../../shared/api';
import type { FlagValue } from '../../../shared/flags';
import { useFlagAudit, useFlags } from '../../api/flags';
import { Badge, Section } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { istDateTime } from '../../format/time';
import { ConfirmFlagDialog } from './ConfirmFlagDialog';
import { fmtFlagValue } from './flagFormat';

export function FlagsScreen() {
  const flags = useFlags();
  const audit = useFlagAudit(100);
  const [proposal, setProposal] = useState<{ flag: FlagView; value: FlagValue } | null>(null);

  return (
    <div className="screen" data-screen="flags">
      <Section title="Feature flags" id="flags-title">
        <p className="muted small">
          Changes apply at once to every service. Each change needs a reason and is audited. A flag pinned by an environment variable can only be changed by
          unsetting the variable and restarting.
        </p>
        <QueryView query={flags} what="flags">
          {(list) => (
            <table className="table flags-table">
              <thead>
                <tr>
                  <th scope="col">Flag</th>
                  <th scope="col">Value</th>
                  <th scope="col">Default</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                {list.map((flag) => (
                  <FlagRow key={flag.key} flag={flag} onPropose={(value) => setProposal({ flag, value })} />
                ))}
              </tbody>
            </table>
          )}
        </QueryView>
      </Section>
      <Section title="Audit log" id="flag-audit-title">
        <QueryView query={audit} what="the flag audit log">
          {(entries) => <AuditTable entries={entries} units={Object.fromEntries((flags.data ?? []).map((f) => [f.key, f.unit]))} />}
        </QueryView>
      </Section>
      {proposal && <ConfirmFlagDialog flag={proposal.flag} value={proposal.value} onClose={() => setProposal(null)} />}
    </div>
  );
}

function FlagRow({ flag, onPropose }: { flag: FlagView; onPropose: (value: FlagValue) => void }) {
  const pinned = flag.pinnedBy !== null;
  return (
    <tr data-testid={`flag-${flag.key}`} className={pinned ? 'row-pinned' : undefined}>
      <td>
        <div className="mono strong">{flag.key}</div>
        <div className="muted small">{flag.description}</div>
      </td>
      <td className="nowrap">
        {flag.type === 'boolean' ? (
          <button
            type="button"
            role="switch"
            className="switch"
            aria-checked={flag.value === true}
            aria-label={flag.key}
            disabled={pinned}
            title={pinned ? `Pinned by ${flag.pinnedBy}` : `Turn ${flag.value ? 'off' : 'on'} (asks for a reason)`}
            onClick={() => onPropose(!flag.value)}
          >
            <span className="switch-knob" aria-hidden="true" />
            <span className="switch-text">{flag.value ? 'On' : 'Off'}</span>
          </button>
        ) : (
          <NumberFlagEditor flag={flag} disabled={pinned} onPropose={onPropose} />
        )}
      </td>
      <td className="mono">{fmtFlagValue(flag.default, flag.unit)}</td>
      <td>
        {pinned ? (
          <Badge tone="warn" title="Set from the environment; the console cannot change it">
            Pinned by <span className="mono">{flag.pinnedBy}</span>
          </Badge>
        ) : flag.updatedAt ? (
          <span className="small">
            {flag.updatedBy} · {istDateTime(flag.updatedAt)}
          </span>
        ) : (
          <span className="muted small">default</span>
        )}
      </td>
    </tr>
  );
}

function NumberFlagEditor({ flag, disabled, onPropose }: { flag: FlagView; disabled: boolean; onPropose: (value: FlagValue) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? String(flag.value);
  const parsed = Number(text);
  const valid =
    text.trim() !== '' && Number.isFinite(parsed) && (flag.min === undefined || parsed >= flag.min) && (flag.max === undefined || parsed <= flag.max);
  const changed = valid && parsed !== flag.value;
  const propose = () => {
    if (!changed) return;
    onPropose(parsed);
    setDraft(null);
  };
  return (
    <form
      className="number-flag"
      onSubmit={(event) => {
        event.preventDefault();
        propose();
      }}
    >
      <input
        type="number"
        aria-label={flag.key}
        value={text}
        min={flag.min}
        max={flag.max}
        disabled={disabled}
        aria-invalid={!valid}
        onChange={(event) => setDraft(event.target.value)}
      />
      {flag.unit === 'seconds' && <span className="muted">s</span>}
      <button type="submit" disabled={disabled || !changed}>
        Change…
      </button>
      {!valid && (
        <span className="field-error" role="alert">
          {flag.min}–{flag.max}
        </span>
      )}
    </form>
  );
}

function AuditTable({ entries, units }: { entries: FlagAuditEntry[]; units: Record<string, string | undefined> }) {
  if (entries.length === 0) return <p className="muted">No flag has been changed yet.</p>;
  return (
    <table className="table audit-table" data-testid="flag-audit">
      <thead>
        <tr>
          <th scope="col">When (IST)</th>
          <th scope="col">Who</th>
          <th scope="col">Flag</th>
          <th scope="col">Change</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={entry.id}>
            <td className="nowrap" title={entry.at}>
              {istDateTime(entry.at)}
            </td>
            <td className="mono small">{entry.actor}</td>
            <td className="mono">{entry.key}</td>
            <td className="nowrap mono">
              {fmtFlagValue(entry.oldValue, units[entry.key])} → {fmtFlagValue(entry.newValue, units[entry.key])}
            </td>
            <td className="wrap">{entry.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
