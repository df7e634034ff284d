// Manual subscribe (by tradingsymbol or instrument token) and a confirmed unsubscribe: removing a token stops the data a chain or an
// external client may rely on, so the dialog says how many.
import { useState } from 'react';
import { useInstrumentSuggestions, useResolveTradingsymbols, useSubscribe, useUnsubscribe } from '../../api/subscriptions';
import { Dialog } from '../../components/Dialog';
import { InlineError } from '../../components/States';
import { useDebounced } from '../../format/useDebounced';
import { parseInstruments } from './subscriptionModel';

/**
 * Manual subscribe by token or tradingsymbol (suggested as you type from the instruments the console knows). A
 * symbol the console has never seen needs its token: the contract has no instrument search yet.
 */
export function SubscribeForm() {
  const [text, setText] = useState('');
  const [unknown, setUnknown] = useState<string[]>([]);
  const [resolving, setResolving] = useState(false);
  const subscribe = useSubscribe();
  const resolve = useResolveTradingsymbols();
  const parsed = parseInstruments(text);
  const last =
    text
      .split(/[\s,]+/)
      .filter(Boolean)
      .pop() ?? '';
  const typing = /[a-z]/i.test(last) ? last.toUpperCase() : '';
  const suggestions = useInstrumentSuggestions(useDebounced(typing));
  const outcome = subscribe.data;
  const count = parsed ? parsed.tokens.length + parsed.symbols.length : 0;
  return (
    <form
      className="inline-form subscribe-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (!parsed) return;
        setResolving(true);
        setUnknown([]);
        void resolve(parsed.symbols)
          .then(({ tokens, unknown: missing }) => {
            setUnknown(missing);
            const all = [...new Set([...parsed.tokens, ...tokens])];
            if (all.length > 0) subscribe.mutate({ tokens: all }, { onSuccess: () => setText(missing.join(' ')) });
          })
          .finally(() => setResolving(false));
      }}
    >
      <label className="inline-field grow">
        <span>Subscribe</span>
        <input
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="tradingsymbols or tokens, e.g. NIFTY26D0126000CE 13660418"
          aria-label="Instruments to subscribe (tradingsymbol or token)"
          aria-invalid={text !== '' && !parsed}
          list="instrument-suggestions"
        />
        <datalist id="instrument-suggestions">
          {(suggestions.data ?? []).map((r) => (
            <option key={r.token} value={text.slice(0, text.length - last.length) + r.tradingsymbol}>
              {r.token} · {r.type}
              {r.expiry ? ` · ${r.expiry}` : ''}
            </option>
          ))}
        </datalist>
      </label>
      <button type="submit" disabled={!parsed || count > 500 || subscribe.isPending || resolving}>
        {subscribe.isPending || resolving ? 'Subscribing…' : 'Subscribe'}
      </button>
      <InlineError error={subscribe.error} />
      {unknown.length > 0 && (
        <span className="inline-error" role="alert">
          Not a live instrument: {unknown.join(', ')} (check the tradingsymbol, or enter the instrument token)
        </span>
      )}
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
    <Dialog
      title={`Unsubscribe ${tokens.length} instrument${tokens.length === 1 ? '' : 's'}?`}
      open
      onClose={() => onClose(Boolean(result))}
      labelId="unsub-title"
    >
      <p>The ticker stops streaming them; chains and external clients that use them will go stale until they subscribe again.</p>
      <p className="mono small wrap">
        {tokens.slice(0, 40).join(', ')}
        {tokens.length > 40 ? ` … +${tokens.length - 40}` : ''}
      </p>
      <InlineError error={unsubscribe.error} />
      {result && (
        <p role="status">
          Removed {result.removed.length}
          {result.failed.length > 0 &&
            `, ${result.failed.length} failed: ${result.failed
              .slice(0, 5)
              .map((f) => `${f.token} (${f.reason})`)
              .join(', ')}`}
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
