// The chain's toolbar (sticky): underlying and spot, strike range, timeframe, the ΔOI basis and the OI /
// LTP-volume / greeks toggle; and the expiry tabs below it (days to expiry; up to three side by side).
import type { ReactNode } from 'react';
import type { OiChangeBasis, Timeframe, UnderlyingInfo } from '../../../shared/api';
import { fmtInt } from '../../format/numbers';
import { fmtExpiry } from '../../format/time';

export type ChainView = 'oi' | 'ltp' | 'greeks';
const VIEWS: { id: ChainView; label: string }[] = [
  { id: 'oi', label: 'OI' },
  { id: 'ltp', label: 'LTP / Volume' },
  { id: 'greeks', label: 'Greeks' },
];
const RANGES = [5, 10, 15, 20, 25, 30, 40, 50];

export const BASIS_LABEL: Record<OiChangeBasis, string> = { previous_close: 'previous close', session_open: 'session open', one_hour_earlier: '1 hour ago' };

export const dteLabel = (days: number): string => (days <= 0 ? 'today' : `${days}d`);

export function ChainControls(props: {
  symbols: string[];
  symbol: string;
  onSymbol: (symbol: string) => void;
  strikeRange: number;
  onStrikeRange: (n: number) => void;
  timeframe: Timeframe;
  onTimeframe: (t: Timeframe) => void;
  view: ChainView;
  onView: (v: ChainView) => void;
  basis: OiChangeBasis;
  onBasis: (b: OiChangeBasis) => void;
  centerStrike: number | undefined;
  onBackToAtm: () => void;
  spot: ReactNode;
}) {
  return (
    <div className="chain-controls">
      <div className="toolbar">
        <label className="inline-field">
          <span>Underlying</span>
          <select value={props.symbol} onChange={(e) => props.onSymbol(e.target.value)} aria-label="Underlying">
            {props.symbols.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {props.spot}
        <label className="inline-field">
          <span>Strikes</span>
          <select value={props.strikeRange} onChange={(e) => props.onStrikeRange(Number(e.target.value))} aria-label="Strikes each side of ATM">
            {RANGES.map((n) => (
              <option key={n} value={n}>
                ATM ± {n}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <span>Bars</span>
          <select value={props.timeframe} onChange={(e) => props.onTimeframe(e.target.value as Timeframe)} aria-label="Timeframe">
            <option value="1min">1 min</option>
            <option value="5min">5 min</option>
            <option value="15min">15 min</option>
          </select>
        </label>
        <label className="inline-field">
          <span>ΔOI vs</span>
          <select value={props.basis} onChange={(e) => props.onBasis(e.target.value as OiChangeBasis)} aria-label="Change in OI against">
            {(Object.keys(BASIS_LABEL) as OiChangeBasis[]).map((b) => (
              <option key={b} value={b}>
                {BASIS_LABEL[b]}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented" role="group" aria-label="Columns">
          {VIEWS.map((v) => (
            <button key={v.id} type="button" aria-pressed={props.view === v.id} onClick={() => props.onView(v.id)}>
              {v.label}
            </button>
          ))}
        </div>
        {props.centerStrike !== undefined && (
          <button type="button" onClick={props.onBackToAtm} title="The chain is centred on a strike you picked">
            Centred on {fmtInt(props.centerStrike)} · back to ATM
          </button>
        )}
      </div>
    </div>
  );
}

/** Expiry tabs (click: only this one; Ctrl/Shift+click or +: side by side). Outside the sticky toolbar, so a long
 * list of expiries does not eat the screen at 1024 x 700. */
export function ExpiryTabs(props: { expiries: UnderlyingInfo['expiries']; selected: string[]; onToggleExpiry: (expiry: string, only: boolean) => void }) {
  return (
    <>
      {props.expiries.length > 0 && (
        <div className="expiry-tabs" role="group" aria-label="Expiries (click: only this one; Ctrl/Shift+click or + : side by side)">
          {props.expiries.map((e) => {
            const on = props.selected.includes(e.expiry);
            return (
              <span key={e.expiry} className={`expiry-tab${on ? ' on' : ''}`}>
                <button
                  type="button"
                  aria-pressed={on}
                  data-expiry={e.expiry}
                  onClick={(event) => props.onToggleExpiry(e.expiry, !(event.ctrlKey || event.shiftKey || event.metaKey))}
                  title={`${e.expiry} · ${e.kind}`}
                >
                  {fmtExpiry(e.expiry)} <span className="dte">{dteLabel(e.days_to_expiry)}</span>
                  {e.kind === 'monthly' && <span className="kind">M</span>}
                </button>
                <button
                  type="button"
                  className="expiry-add"
                  aria-label={on ? `Remove ${e.expiry} from the comparison` : `Add ${e.expiry} side by side`}
                  onClick={() => props.onToggleExpiry(e.expiry, false)}
                >
                  {on ? '−' : '+'}
                </button>
              </span>
            );
          })}
        </div>
      )}
    </>
  );
}
