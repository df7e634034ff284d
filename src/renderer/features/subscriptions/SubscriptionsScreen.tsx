// Subscriptions: what the ticker streams and why (owner: a chain's auto-subscribe, manual, external), each one's
// state, last tick age and mode; capacity per connection and account; subscribe / unsubscribe; the intake log.
import { useState } from 'react';
import type { SubscriptionRow, SubscriptionState } from '../../../shared/api';
import { useSubscriptionList } from '../../api/subscriptions';
import { Badge, Section, type Tone } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { fmtAge, fmtDuration, fmtInt } from '../../format/numbers';
import { ageMs, istTime, useNow } from '../../format/time';
import { useDebounced } from '../../format/useDebounced';
import { CapacityPanel } from './CapacityPanel';
import { IntakeLog } from './IntakeLog';
import { SubscribeForm, UnsubscribeDialog } from './SubscriptionActions';

type StateFilter = SubscriptionState | 'all';
const STATES: StateFilter[] = ['all', 'active', 'pending', 'failed', 'backing_off', 'inactive'];
export const STATE_TONE: Record<SubscriptionState, Tone> = { active: 'ok', pending: 'info', failed: 'bad', backing_off: 'warn', inactive: 'muted' };
const PAGE = 300;

/** Chain order: underlying, expiry, strike, CE before PE; indices and futures first. */
export const byInstrument = (a: SubscriptionRow, b: SubscriptionRow): number =>
  (a.symbol ?? a.tradingsymbol).localeCompare(b.symbol ?? b.tradingsymbol) ||
  (a.expiry ?? '').localeCompare(b.expiry ?? '') ||
  (a.strike ?? 0) - (b.strike ?? 0) ||
  (a.type ?? '').localeCompare(b.type ?? '') ||
  a.token - b.token;

export function SubscriptionsScreen() {
  const [state, setState] = useState<StateFilter>('all');
  const [search, setSearch] = useState('');
  const debounced = useDebounced(search.trim());
  const list = useSubscriptionList({ state, ...(debounced ? { search: debounced } : {}), limit: 2000 });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [shown, setShown] = useState(PAGE);

  const toggle = (token: number) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(token)) next.delete(token);
      else next.add(token);
      return next;
    });

  return (
    <div className="screen" data-screen="subscriptions">
      <CapacityPanel />
      <Section
        title="Subscriptions"
        id="subs-title"
        actions={
          <button type="button" disabled={selected.size === 0} onClick={() => setConfirming(true)}>
            Unsubscribe {selected.size > 0 ? `${selected.size} selected` : 'selected'}…
          </button>
        }
      >
        <div className="toolbar">
          <label className="inline-field">
            <span>State</span>
            <select value={state} onChange={(e) => setState(e.target.value as StateFilter)} aria-label="Filter by state">
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
          <label className="inline-field grow">
            <span>Search</span>
            <input type="search" value={search} placeholder="tradingsymbol, token or underlying" onChange={(e) => setSearch(e.target.value)} aria-label="Search subscriptions" />
          </label>
          <SubscribeForm />
        </div>
        <QueryView query={list} what="subscriptions">
          {(unsorted) => {
            const rows = [...unsorted].sort(byInstrument);
            return (
            <>
              <SubscriptionTable rows={rows.slice(0, shown)} selected={selected} onToggle={toggle} onToggleAll={(all) => setSelected(all ? new Set(rows.slice(0, shown).map((r) => r.token)) : new Set())} />
              <p className="small muted">
                {rows.length === 0 ? 'No subscriptions match.' : `Showing ${fmtInt(Math.min(shown, rows.length))} of ${fmtInt(rows.length)}.`}{' '}
                {rows.length > shown && (
                  <button type="button" className="link" onClick={() => setShown((n) => n + PAGE)}>
                    Show more
                  </button>
                )}
              </p>
            </>
            );
          }}
        </QueryView>
      </Section>
      <IntakeLog />
      {confirming && (
        <UnsubscribeDialog
          tokens={[...selected]}
          onClose={(done) => {
            setConfirming(false);
            if (done) setSelected(new Set());
          }}
        />
      )}
    </div>
  );
}

function SubscriptionTable({ rows, selected, onToggle, onToggleAll }: { rows: SubscriptionRow[]; selected: Set<number>; onToggle: (t: number) => void; onToggleAll: (all: boolean) => void }) {
  const now = useNow(1000);
  const allOn = rows.length > 0 && rows.every((r) => selected.has(r.token));
  return (
    <div className="table-scroll">
      <table className="table subs-table" data-testid="subscriptions-table">
        <thead>
          <tr>
            <th scope="col">
              <input type="checkbox" aria-label="Select all shown" checked={allOn} onChange={(e) => onToggleAll(e.target.checked)} />
            </th>
            <th scope="col">Instrument</th>
            <th scope="col">State</th>
            <th scope="col">Owner</th>
            <th scope="col" className="num">
              Last tick
            </th>
            <th scope="col">Mode</th>
            <th scope="col">Account</th>
            <th scope="col" className="num">
              Attempts
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.token} data-token={row.token}>
              <td>
                <input type="checkbox" aria-label={`Select ${row.tradingsymbol}`} checked={selected.has(row.token)} onChange={() => onToggle(row.token)} />
              </td>
              <td>
                <span className="mono strong">{row.tradingsymbol}</span> <span className="muted small mono">{row.token}</span>
              </td>
              <td>
                <Badge tone={STATE_TONE[row.state]}>{row.state.replace('_', ' ')}</Badge>
                {(row.state === 'failed' || row.state === 'backing_off') && (
                  <div className="small">
                    {row.failureReason && <span className="bad-text">{row.failureReason}</span>}
                    {row.nextRetryAt && (
                      <span className="muted">
                        {' '}
                        · retry {Date.parse(row.nextRetryAt) > now ? `in ${fmtDuration((Date.parse(row.nextRetryAt) - now) / 1000)}` : `at ${istTime(row.nextRetryAt)}`}
                      </span>
                    )}
                  </div>
                )}
              </td>
              <td className="small">
                {row.owners.length === 0 ? <span className="muted">none</span> : row.owners.map((o) => <span key={o} className="chip">{o}</span>)}
              </td>
              <td className="num small">{row.lastTickAt ? fmtAge(ageMs(row.lastTickAt, now)) : fmtAge(row.lastTickAgeMs)}</td>
              <td className="small">{row.mode}</td>
              <td className="small">{row.account}</td>
              <td className="num small">{row.attempts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
