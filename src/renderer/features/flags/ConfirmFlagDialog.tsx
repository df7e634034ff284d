// The confirmation for one flag change: old -> new and a required reason (at least 3 characters, as main checks).
import { useState } from 'react';
import type { FlagView } from '../../../shared/api';
import type { FlagValue } from '../../../shared/flags';
import { useSetFlag } from '../../api/flags';
import { Dialog } from '../../components/Dialog';
import { InlineError } from '../../components/States';
import { fmtFlagValue } from './flagFormat';

const MIN_REASON = 3;

export function ConfirmFlagDialog({ flag, value, onClose }: { flag: FlagView; value: FlagValue; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const setFlag = useSetFlag();
  const trimmed = reason.trim();
  const valid = trimmed.length >= MIN_REASON && trimmed.length <= 500;

  const confirm = () => {
    if (!valid || setFlag.isPending) return;
    setFlag.mutate({ key: flag.key, value, reason: trimmed }, { onSuccess: onClose });
  };

  return (
    <Dialog title={`Change ${flag.key}`} open onClose={onClose} labelId="flag-dialog-title">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          confirm();
        }}
      >
        <p className="muted small">{flag.description}</p>
        <p className="change-line">
          <span className="mono">{fmtFlagValue(flag.value, flag.unit)}</span> → <span className="mono strong">{fmtFlagValue(value, flag.unit)}</span>
        </p>
        <label className="field">
          <span>Reason (required, recorded in the audit log)</span>
          <textarea
            value={reason}
            autoFocus
            rows={3}
            maxLength={500}
            aria-invalid={!valid}
            onChange={(event) => setReason(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                confirm();
              }
            }}
          />
          {!valid && trimmed.length > 0 && <span className="field-error">At least {MIN_REASON} characters.</span>}
        </label>
        <InlineError error={setFlag.error} />
        <div className="dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid || setFlag.isPending}>
            {setFlag.isPending ? 'Saving…' : 'Confirm change'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
