// The header strip's futures figure: the nearest future's LTP and its basis against the spot shown beside it
// (future minus spot, points and %), or why there is none. A future nobody subscribed does not stream: the figure
// says so and offers to subscribe it (a manual subscription, visible on the Subscriptions screen).
import type { ChainQuote } from '../../../shared/api';
import { useChainQuote } from '../../api/chain';
import { useSubscribe } from '../../api/subscriptions';
import { fmtPrice } from '../../format/numbers';
import { fmtExpiry, istTime } from '../../format/time';
import { basisOf, futureNote } from './quoteModel';

export function FutureFigure({ symbol, spot }: { symbol: string; spot: number | null }) {
  const quote = useChainQuote({ symbol, future: true }, 5_000);
  if (!quote.data) return null;
  return <FutureView future={quote.data.future} spot={spot} />;
}

function FutureView({ future, spot }: { future: ChainQuote['future']; spot: number | null }) {
  const subscribe = useSubscribe();
  const note = futureNote(future);
  const basis = basisOf(future?.ltp, spot);
  return (
    <span
      className="future-figure"
      data-testid="future"
      title={`Nearest future${future ? ` (expiry ${fmtExpiry(future.expiry)})` : ''}: last traded price, and basis = future − spot`}
    >
      <span className="muted small">{future ? (future.tradingsymbol ?? 'future') : 'future'}</span>{' '}
      {future && future.ltp !== null ? (
        <>
          <strong className="mono" data-testid="future-ltp">
            {fmtPrice(future.ltp)}
          </strong>{' '}
          <span className="small muted">{future.at ? `@ ${istTime(future.at)}` : ''}</span>{' '}
          <span className="small" data-testid="future-basis">
            basis{' '}
            <span className="mono">
              {basis
                ? `${basis.points >= 0 ? '+' : '−'}${fmtPrice(Math.abs(basis.points))} (${basis.pct >= 0 ? '+' : '−'}${Math.abs(basis.pct).toFixed(2)}%)`
                : '–'}
            </span>
          </span>
        </>
      ) : (
        <span className="small muted" data-testid="future-note" title={note ?? undefined}>
          {future && !future.streaming ? 'not streaming' : note}
          {future && !future.streaming && (
            <>
              {' '}
              <button
                type="button"
                className="link-button"
                disabled={subscribe.isPending}
                onClick={() => subscribe.mutate({ tokens: [future.token] })}
                aria-label={`Subscribe ${future.tradingsymbol ?? 'the future'} to see its price`}
              >
                subscribe
              </button>
            </>
          )}
        </span>
      )}
    </span>
  );
}
