// The option chain for traders, after Kite's: expiry tabs with days to expiry, ATM highlighted, click a strike to
// recentre, CE/PE open interest as mirrored bars with change in OI, an IV smile, a greeks / LTP-volume table toggle
// and a PCR / max pain / ATM IV footer per expiry. Several expiries sit side by side. Main pushes chain:changed and
// the chain refetches; there is no polling loop here.
import { useDeferredValue, useState } from 'react';
import type { Timeframe, UnderlyingInfo } from '../../../shared/api';
import { useDistribution, useUnderlyings } from '../../api/chain';
import { ErrorPanel, Loading } from '../../components/States';
import { fmtPrice } from '../../format/numbers';
import { istTime } from '../../format/time';
import { ChainControls, type ChainView } from './ChainControls';
import { ExpiryPanel } from './ExpiryPanel';
import { IvSmile } from './IvSmile';
import { SubscriptionStrip } from './SubscriptionStrip';

const FALLBACK_UNDERLYINGS = ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY'];
export const MAX_SIDE_BY_SIDE = 3;

export function ChainScreen() {
  const underlyings = useUnderlyings();
  const [symbol, setSymbol] = useState('NIFTY');
  const [chosenExpiries, setChosenExpiries] = useState<Record<string, string[]>>({});
  const [strikeRange, setStrikeRange] = useState(10);
  const [timeframe, setTimeframe] = useState<Timeframe>('1min');
  const [view, setView] = useState<ChainView>('oi');
  const [centerStrike, setCenterStrike] = useState<number | undefined>(undefined);

  const info: UnderlyingInfo | undefined = underlyings.data?.find((u) => u.symbol === symbol);
  const symbols = underlyings.data?.length ? underlyings.data.map((u) => u.symbol) : FALLBACK_UNDERLYINGS;
  // Until the trader picks, the nearest expiry (Kite's default tab).
  const expiries = chosenExpiries[symbol] ?? (info?.expiries.length ? [info.expiries[0].expiry] : []);

  // Query keys hash by value, so a fresh object per render is the same query.
  const request = {
    symbol,
    ...(expiries.length ? { expiries } : {}),
    timeframe,
    strikeRange,
    autoSubscribe: true,
    ...(centerStrike !== undefined ? { centerStrike } : {}),
  };
  // Wait for the expiry list (when it can be had) so the first request already names the default expiry.
  const distribution = useDistribution(request, !underlyings.isPending);
  // Each second's chain renders at background priority, in slices between frames, so a 3 x 100-strike update
  // does not block scrolling or typing; the panels below are memoized on it.
  const chain = useDeferredValue(distribution.data);

  const expiryChoices =
    info?.expiries ?? (chain?.metadata.expiries ?? []).map((expiry) => ({ expiry, days_to_expiry: chain?.series.find((s) => s.expiry === expiry)?.days_to_expiry ?? 0, kind: 'weekly' as const }));
  const shownExpiries = chain ? (chosenExpiries[symbol] ?? chain.series.map((s) => s.expiry)) : expiries;

  const toggleExpiry = (expiry: string, only: boolean) => {
    setChosenExpiries((prev) => {
      const current = prev[symbol] ?? shownExpiries;
      let next: string[];
      if (only) next = [expiry];
      else if (current.includes(expiry)) next = current.length > 1 ? current.filter((e) => e !== expiry) : current;
      else next = [...current, expiry].slice(-MAX_SIDE_BY_SIDE);
      const order = expiryChoices.map((e) => e.expiry);
      next.sort((a, b) => order.indexOf(a) - order.indexOf(b));
      return { ...prev, [symbol]: next };
    });
  };

  return (
    <div className="screen chain-screen" data-screen="chain">
      <ChainControls
        symbols={symbols}
        symbol={symbol}
        onSymbol={(s) => {
          setSymbol(s);
          setCenterStrike(undefined);
        }}
        expiries={expiryChoices}
        selected={shownExpiries}
        onToggleExpiry={toggleExpiry}
        strikeRange={strikeRange}
        onStrikeRange={setStrikeRange}
        timeframe={timeframe}
        onTimeframe={setTimeframe}
        view={view}
        onView={setView}
        centerStrike={centerStrike}
        onBackToAtm={() => setCenterStrike(undefined)}
        spot={
          chain?.metadata.underlying_price != null ? (
            <span className="spot" data-testid="spot">
              <span className="muted small">{symbol}</span> <strong className="mono">{fmtPrice(chain.metadata.underlying_price)}</strong>{' '}
              <span className="muted small">{chain.metadata.underlying_time ? `@ ${istTime(chain.metadata.underlying_time)}` : ''}</span>
            </span>
          ) : null
        }
      />
      {underlyings.isError && underlyings.error.code !== 'UNAVAILABLE' && (
        <ErrorPanel error={underlyings.error} what="the underlyings and their expiries" onRetry={() => void underlyings.refetch()} retrying={underlyings.isFetching} />
      )}
      {distribution.isError && (
        <ErrorPanel
          error={distribution.error}
          what={chain ? `the ${symbol} chain (showing the last answer)` : `the ${symbol} chain`}
          onRetry={() => void distribution.refetch()}
          retrying={distribution.isFetching}
        />
      )}
      {!chain && distribution.isFetching && <Loading what={`the ${symbol} chain (subscribing its strikes if nobody has)`} />}
      {chain && (
        <>
          <SubscriptionStrip distribution={chain} />
          {/* The OI ladder fits three expiries across at 1280 px; the ten-column tables stack, as wide as Kite's. */}
          <div className="expiry-grid" style={{ gridTemplateColumns: view === 'oi' ? `repeat(${Math.max(1, chain.series.length)}, minmax(0, 1fr))` : 'minmax(0, 1fr)' }}>
            {chain.series.map((series) => (
              <ExpiryPanel
                key={series.expiry}
                series={series}
                view={view}
                spot={chain.metadata.underlying_price}
                timeframe={chain.timeframe}
                centerStrike={centerStrike}
                onRecentre={setCenterStrike}
              />
            ))}
          </div>
          {chain.series.length === 0 && <p className="muted">No expiries listed for {symbol}.</p>}
          {chain.series.length > 0 && <IvSmile series={chain.series} />}
        </>
      )}
    </div>
  );
}
