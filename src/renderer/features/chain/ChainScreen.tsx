// The option chain for traders, after Kite, Sensibull and Opstra: expiry tabs with days to expiry, a header strip of
// expiry-wide figures (marked partial with their coverage), CE/PE open interest as mirrored bars with the change in
// OI in its own column, an IV smile of liquid legs only, and a greeks / LTP-volume table toggle. The page scrolls as
// a whole under a sticky toolbar, the ATM row centred when the chain opens. Data that is not live (console gone,
// token refused, stream reconnecting, bars stale) dims the chain and says since when. Clicking a strike opens its
// detail. Main pushes chain:changed and the chain refetches; there is no polling loop here.
import { useCallback, useDeferredValue, useLayoutEffect, useRef, useState } from 'react';
import type { OiChangeBasis, Timeframe, UnderlyingInfo } from '../../../shared/api';
import { useDistribution, useUnderlyings } from '../../api/chain';
import { useConnectionState } from '../../api/provider';
import { ErrorPanel, Loading } from '../../components/States';
import { useStickyHeight } from '../../components/useStickyHeight';
import { fmtPrice } from '../../format/numbers';
import { istTime, useNow } from '../../format/time';
import { ChainControls, ExpiryTabs, type ChainView } from './ChainControls';
import { chainLiveness, type LivenessView } from './chainModel';
import { ExpiryPanel } from './ExpiryPanel';
import { IvSmile } from './IvSmile';
import { FutureFigure } from './FutureFigure';
import { StrikeDetail, type StrikePick } from './StrikeDetail';
import { SubscriptionStrip } from './SubscriptionStrip';

const FALLBACK_UNDERLYINGS = ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY'];
export const MAX_SIDE_BY_SIDE = 3;

export function ChainScreen() {
  const underlyings = useUnderlyings();
  const connection = useConnectionState();
  const [symbol, setSymbol] = useState('NIFTY');
  const [chosenExpiries, setChosenExpiries] = useState<Record<string, string[]>>({});
  const [strikeRange, setStrikeRange] = useState(10);
  const [timeframe, setTimeframe] = useState<Timeframe>('1min');
  const [view, setView] = useState<ChainView>('oi');
  const [basis, setBasis] = useState<OiChangeBasis>('one_hour_earlier');
  const [centerStrike, setCenterStrike] = useState<number | undefined>(undefined);
  const [pick, setPick] = useState<StrikePick | null>(null);
  const now = useNow(1000);

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
    oiChangeBasis: basis,
    ...(centerStrike !== undefined ? { centerStrike } : {}),
  };
  // Wait for the expiry list (when it can be had) so the first request already names the default expiry.
  const distribution = useDistribution(request, !underlyings.isPending);
  // Each second's chain renders at background priority, in slices between frames, so a 3 x 100-strike update
  // does not block scrolling or typing; the panels below are memoized on it.
  const chain = useDeferredValue(distribution.data);
  // The ages' clock at the same background priority, so its tick and an update commit together when they meet.
  const shownNow = useDeferredValue(now);

  const liveness = chainLiveness({
    connection,
    answeredAt: distribution.dataUpdatedAt,
    refreshFailed: distribution.isError && chain !== undefined,
    series: chain?.series ?? [],
    now,
    timeframe: chain?.timeframe ?? timeframe,
  });

  const expiryChoices =
    info?.expiries ??
    (chain?.metadata.expiries ?? []).map((expiry) => ({
      expiry,
      days_to_expiry: chain?.series.find((s) => s.expiry === expiry)?.days_to_expiry ?? 0,
      kind: 'weekly' as const,
    }));
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

  const grid = useRef<HTMLDivElement>(null);
  const sticky = useRef<HTMLDivElement>(null);
  useStickyHeight(sticky, '--chain-head-h');
  // Centre the ATM row (or the strike the trader centred on) once per chain layout, only when it is out of view:
  // a chain that fits stays put, so the toolbar never moves on its own.
  // Keyed on the answer's own shape (not the request), so the previous range kept on screen while a new one loads
  // does not use up the centring.
  const layoutKey = chain
    ? `${chain.symbol}|${chain.series.map((s) => `${s.expiry}:${s.call.length}:${s.put.length}`).join(',')}|${view}|${centerStrike ?? ''}`
    : '';
  const placeholder = distribution.isPlaceholderData;
  const centredFor = useRef<string | null>(null);
  useLayoutEffect(() => {
    if (!chain || placeholder || centredFor.current === layoutKey || !grid.current) return;
    const target = grid.current.querySelector<HTMLElement>(centerStrike !== undefined ? '.centred[data-strike]' : '.atm[data-strike]');
    if (!target) return;
    centredFor.current = layoutKey;
    const rect = target.getBoundingClientRect();
    const top = (sticky.current?.getBoundingClientRect().bottom ?? 0) + 24;
    if (rect.top < top || rect.bottom > window.innerHeight) target.scrollIntoView({ block: 'center' });
  });

  const onStrike = useCallback((expiry: string, strike: number) => setPick({ expiry, strike }), []);

  return (
    <div className="screen chain-screen" data-screen="chain">
      <div className="chain-sticky" ref={sticky}>
        <ChainControls
          symbols={symbols}
          symbol={symbol}
          onSymbol={(s) => {
            setSymbol(s);
            setCenterStrike(undefined);
          }}
          strikeRange={strikeRange}
          onStrikeRange={setStrikeRange}
          timeframe={timeframe}
          onTimeframe={setTimeframe}
          view={view}
          onView={setView}
          basis={basis}
          onBasis={setBasis}
          centerStrike={centerStrike}
          onBackToAtm={() => setCenterStrike(undefined)}
          spot={
            <>
              {chain?.metadata.underlying_price != null ? (
                <span className="spot" data-testid="spot" title="Underlying (index) price">
                  <span className="muted small">{symbol} spot</span> <strong className="mono">{fmtPrice(chain.metadata.underlying_price)}</strong>{' '}
                  <span className="muted small">{chain.metadata.underlying_time ? `@ ${istTime(chain.metadata.underlying_time)}` : ''}</span>
                </span>
              ) : null}
              {chain && <FutureFigure symbol={symbol} spot={chain.metadata.underlying_price} />}
            </>
          }
        />
        {chain && liveness.state !== 'live' && <FrozenBanner liveness={liveness} />}
      </div>
      <ExpiryTabs expiries={expiryChoices} selected={shownExpiries} onToggleExpiry={toggleExpiry} />
      {underlyings.isError && underlyings.error.code !== 'UNAVAILABLE' && (
        <ErrorPanel
          error={underlyings.error}
          what="the underlyings and their expiries"
          onRetry={() => void underlyings.refetch()}
          retrying={underlyings.isFetching}
        />
      )}
      {distribution.isError && (
        <ErrorPanel
          error={distribution.error}
          what={chain ? `the ${symbol} chain (showing the last answer)` : `the ${symbol} chain`}
          onRetry={() => void distribution.refetch()}
          retrying={distribution.isFetching}
        />
      )}
      {!chain && distribution.isFetching && <Loading what={`the ${symbol} chain (subscribing its strikes if nobody has; the ticker takes 30 a minute)`} />}
      {chain && (
        <div className={`chain-body${liveness.state !== 'live' ? ' frozen' : ''}`} data-testid="chain-body" data-liveness={liveness.state}>
          <SubscriptionStrip distribution={chain} liveness={liveness} />
          {/* Ladders side by side while each keeps 400 px (three across at 1280, two at 1024, the third below); the
              wide tables stack, as wide as Kite's. */}
          <div
            ref={grid}
            className="expiry-grid"
            style={{
              gridTemplateColumns: view === 'oi' ? `repeat(auto-fit, minmax(min(100%, ${chain.series.length > 1 ? 400 : 0}px), 1fr))` : 'minmax(0, 1fr)',
            }}
          >
            {chain.series.map((series) => (
              <ExpiryPanel
                key={series.expiry}
                series={series}
                view={view}
                spot={chain.metadata.underlying_price}
                timeframe={chain.timeframe}
                centerStrike={centerStrike}
                now={shownNow}
                onStrike={onStrike}
                basisAsked={basis}
              />
            ))}
          </div>
          {chain.series.length === 0 && <p className="muted">No expiries listed for {symbol}.</p>}
          {chain.series.length > 0 && <IvSmile series={chain.series} />}
        </div>
      )}
      {pick && (
        <StrikeDetail
          symbol={symbol}
          pick={pick}
          series={chain?.series.find((s) => s.expiry === pick.expiry)}
          timeframe={timeframe}
          now={now}
          onClose={() => setPick(null)}
          onCentre={(strike) => {
            setPick(null);
            setCenterStrike(strike);
          }}
        />
      )}
    </div>
  );
}

const FROZEN_TITLE: Record<LivenessView['state'], string> = {
  live: '',
  stale: 'Stale',
  reconnecting: 'Reconnecting',
  unreachable: 'Console unreachable',
  unauthorized: 'Not signed in (401)',
  failing: 'Refresh failing',
};

/** Unmistakable: a full-width band above the chain, with the instant the numbers stopped moving. */
function FrozenBanner({ liveness }: { liveness: LivenessView }) {
  return (
    <div className={`frozen-banner frozen-${liveness.state}`} role="alert" data-testid="chain-frozen" data-state={liveness.state}>
      <strong>
        {FROZEN_TITLE[liveness.state]}: frozen since {liveness.frozenSince ? `${istTime(liveness.frozenSince)} IST` : 'the first answer'}
      </strong>{' '}
      <span>— {liveness.reason}. The numbers below are not live.</span>
    </div>
  );
}
