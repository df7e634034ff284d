// Manual subscribe (by instrument token) and a confirmed unsubscribe: removing a token stops the data a chain or an
// external client may rely on, so the dialog says how many.
import { useState } from 'react';
import { useSubscribe, useUnsubscribe } from '../../api/subscriptions';
import { Dialog } from '../../components/Dialog';
import { InlineError } from '../../components/States';

export const parseTokens = (text: string): number[] | null => {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const tokens = parts.map(Number);
  return tokens.every((t) => Number.isInteger(t) && t > 0) ? [...new Set(tokens)] : null;
};

export function SubscribeForm() {
  const [text, setText] = useState('');
  const subscribe = useSubscribe();
  const tokens = parseTokens(text);
  const outcome = subscribe.data;
  return (
    <form
      className="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (tokens) subscribe.mutate({ tokens }, { onSuccess: () => setText('') });
      }}
    >
      <label className="inline-field">
        <span>Tokens</span>
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. 13660418, 13660674" aria-label="Instrument tokens to subscribe" aria-invalid={text !== '' && !tokens} />
      </label>
      <button type="submit" disabled={!tokens || tokens.length > 500 || subscribe.isPending}>
        {subscribe.isPending ? 'Subscribing…' : 'Subscribe'}
      </button>
      <InlineError error={subscribe.error} />
      {outcome && (
        <span className="small muted" role="status">
          {outcome.state}: {outcome.newly.length} new, {outcome.already.length} already, {outcome.pending.length} pending, {outcome.failed.length} failed
        </span>
      )}
    </form>
  );
}

export function UnsubscribeDialog({ tokens, onClose }: { tokens: number[]; onClose: (done: boolean) => void }) {
  const unsubscribe = useUnsubscribe();
  const result = unsubscribe.data;
  return (
    <Dialog title={`Unsubscribe ${tokens.length} instrument${tokens.length === 1 ? '' : 's'}?`} open onClose={() => onClose(Boolean(result))} labelId="unsub-title">
      <p>The ticker stops streaming them; chains and external clients that use them will go stale until they subscribe again.</p>
      <p className="mono small wrap">{tokens.slice(0, 40).join(', ')}{tokens.length > 40 ? ` … +${tokens.length - 40}` : ''}</p>
      <InlineError error={unsubscribe.error} />
      {result && (
        <p role="status">
          Removed {result.removed.length}
          {result.failed.length > 0 && `, ${result.failed.length} failed: ${result.failed.slice(0, 5).map((f) => `${f.token} (${f.reason})`).join(', ')}`}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" onClick={() => onClose(Boolean(result))}>
          {result ? 'Close' : 'Cancel'}
        </button>
        {!result && (
          <button type="button" className="danger" disabled={unsubscribe.isPending} onClick={() => unsubscribe.mutate({ tokens: tokens.slice(0, 500) })}>
            {unsubscribe.isPending ? 'Unsubscribing…' : 'Unsubscribe'}
          </button>
        )}
      </div>
    </Dialog>
  );
}
