// Subscriptions: what the ticker streams and why (owner: a chain's auto-subscribe, manual, external), each one's
// state with the reason and next attempt of a pending or failing one, last tick age and mode; counts per state at
// the top (click to filter), grouping by underlying and expiry, sortable columns; capacity per connection and
// account; subscribe by token or tradingsymbol; unsubscribe; the intake log. The page scrolls, not a box.
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
import { BUCKETS, groupRows, inBucket, sortRows, stateCounts, type Sort, type SortKey, type StateBucket } from './subscriptionModel';

export const STATE_TONE: Record<SubscriptionState, Tone> = { active: 'ok', pending: 'info', failed: 'bad', backing_off: 'warn', inactive: 'muted' };
const BUCKET_LABEL: Record<StateBucket, string> = { all: 'All', active: 'Active', pending: 'Pending', failing: 'Failing', inactive: 'Inactive' };
const BUCKET_TONE: Record<StateBucket, Tone> = { all: 'muted', active: 'ok', pending: 'info', failing: 'bad', inactive: 'muted' };
const PAGE = 300;
export { byInstrument } from './subscriptionModel';

export function SubscriptionsScreen() {
  const [bucket, setBucket] = useState<StateBucket>('all');
  const [search, setSearch] = useState('');
  const [grouped, setGrouped] = useState(true);
  const [sort, setSort] = useState<Sort>({ key: 'instrument', dir: 'asc' });
  const debounced = useDebounced(search.trim());
  // One list (all states) feeds both the counts and the table, so they always agree.
  const list = useSubscriptionList({ state: 'all', ...(debounced ? { search: debounced } : {}), limit: 10000 });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [shown, setShown] = useState(PAGE);
  const now = useNow(1000);

  const toggle = (token: number) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(token)) next.delete(token);
      else next.add(token);
      return next;
    });
  const counts = stateCounts(list.data ?? []);

  return (
    <div className="screen" data-screen="subscriptions">
      <div className="state-counts" role="group" aria-label="Subscriptions by state (click to filter)" data-testid="state-counts">
        {BUCKETS.map((b) => (
          <button
            key={b}
            type="button"
            className={`count-card tone-${BUCKET_TONE[b]}`}
            aria-pressed={bucket === b}
            onClick={() => setBucket(b)}
            data-bucket={b}
          >
            <span className="count-value">{list.data ? fmtInt(counts[b]) : '–'}</span>
            <span className="count-label">{BUCKET_LABEL[b]}</span>
          </button>
        ))}
      </div>
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
          <label className="inline-field grow">
            <span>Search</span>
            <input
              type="search"
              value={search}
              placeholder="tradingsymbol, token or underlying"
              onChange={(e) => setSearch(e.target.value)}
              aria-label="Search subscriptions"
            />
          </label>
          <label className="check">
            <input type="checkbox" checked={grouped} onChange={(e) => setGrouped(e.target.checked)} /> Group by underlying and expiry
          </label>
        </div>
        <SubscribeForm />
        <QueryView query={list} what="subscriptions">
          {(all) => {
            const rows = sortRows(all.filter(inBucket(bucket)), sort, now).slice(0, shown);
            const total = all.filter(inBucket(bucket)).length;
            return (
              <>
                <SubscriptionTable
                  rows={rows}
                  grouped={grouped}
                  sort={sort}
                  onSort={(key) => setSort((prev) => ({ key, dir: prev.key === key && prev.dir === 'asc' ? 'desc' : 'asc' }))}
                  now={now}
                  selected={selected}
                  onToggle={toggle}
                  onToggleAll={(on) => setSelected(on ? new Set(rows.map((r) => r.token)) : new Set())}
                />
                <p className="small muted">
                  {total === 0 ? 'No subscriptions match.' : `Showing ${fmtInt(Math.min(shown, total))} of ${fmtInt(total)}.`}{' '}
                  {total > shown && (
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

const COLUMNS: { key: SortKey | null; label: string; num?: boolean }[] = [
  { key: 'instrument', label: 'Instrument' },
  { key: 'state', label: 'State' },
  { key: 'owner', label: 'Owner' },
  { key: 'lastTick', label: 'Last tick', num: true },
  { key: null, label: 'Mode' },
  { key: null, label: 'Account' },
  { key: 'attempts', label: 'Attempts', num: true },
];

function SubscriptionTable(props: {
  rows: SubscriptionRow[];
  grouped: boolean;
  sort: Sort;
  onSort: (key: SortKey) => void;
  now: number;
  selected: Set<number>;
  onToggle: (t: number) => void;
  onToggleAll: (all: boolean) => void;
}) {
  const allOn = props.rows.length > 0 && props.rows.every((r) => props.selected.has(r.token));
  const groups = props.grouped ? groupRows(props.rows) : [{ key: 'all', label: '', rows: props.rows, counts: null }];
  return (
    <div className="table-scroll">
      <table className="table subs-table" data-testid="subscriptions-table">
        <thead>
          <tr>
            <th scope="col">
              <input type="checkbox" aria-label="Select all shown" checked={allOn} onChange={(e) => props.onToggleAll(e.target.checked)} />
            </th>
            {COLUMNS.map((c) => (
              <th
                key={c.label}
                scope="col"
                className={c.num ? 'num' : undefined}
                aria-sort={c.key && props.sort.key === c.key ? (props.sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                {c.key ? (
                  <button type="button" className="sort" onClick={() => props.onSort(c.key as SortKey)} data-sort={c.key}>
                    {c.label}
                    <span aria-hidden="true" className="sort-mark">
                      {props.sort.key === c.key ? (props.sort.dir === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
                    </span>
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        {groups.map((group) => (
          <tbody key={group.key} data-group={group.label || undefined}>
            {group.counts && (
              <tr className="group-row">
                <th scope="colgroup" colSpan={COLUMNS.length + 1}>
                  {group.label}{' '}
                  <span className="muted small">
                    {fmtInt(group.counts.all)} · {fmtInt(group.counts.active)} active
                    {group.counts.pending > 0 && ` · ${fmtInt(group.counts.pending)} pending`}
                    {group.counts.failing > 0 && ` · ${fmtInt(group.counts.failing)} failing`}
                  </span>
                </th>
              </tr>
            )}
            {group.rows.map((row) => (
              <Row key={row.token} row={row} now={props.now} selected={props.selected.has(row.token)} onToggle={props.onToggle} />
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}

function Row({ row, now, selected, onToggle }: { row: SubscriptionRow; now: number; selected: boolean; onToggle: (t: number) => void }) {
  const retryIn = row.nextRetryAt ? Date.parse(row.nextRetryAt) - now : null;
  return (
    <tr data-token={row.token} data-state={row.state}>
      <td>
        <input type="checkbox" aria-label={`Select ${row.tradingsymbol}`} checked={selected} onChange={() => onToggle(row.token)} />
      </td>
      <td>
        <span className="mono strong">{row.tradingsymbol}</span> <span className="muted small mono">{row.token}</span>
      </td>
      <td>
        <Badge tone={STATE_TONE[row.state]}>{row.state.replace('_', ' ')}</Badge>
        {row.state !== 'active' && row.state !== 'inactive' && (
          <div className="small" data-testid="pending-reason">
            {row.failureReason ? (
              <span className={row.state === 'pending' ? 'muted' : 'bad-text'}>{row.failureReason}</span>
            ) : row.state === 'pending' ? (
              <span className="muted">{row.lastTickAt ? 'subscribed' : 'subscribed, waiting for the first tick'}</span>
            ) : null}
            {row.nextRetryAt && retryIn !== null && (
              <span className="muted">
                {' '}
                · next attempt{' '}
                {retryIn > 0 ? `in ${fmtDuration(retryIn / 1000)} (${istTime(row.nextRetryAt)} IST)` : `due since ${istTime(row.nextRetryAt)} IST`}
              </span>
            )}
          </div>
        )}
      </td>
      <td className="small">
        {row.owners.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          row.owners.map((o) => (
            <span key={o} className="chip">
              {o}
            </span>
          ))
        )}
      </td>
      <td className="num small">{row.lastTickAt ? fmtAge(ageMs(row.lastTickAt, now)) : fmtAge(row.lastTickAgeMs)}</td>
      <td className="small">{row.mode}</td>
      <td className="small">{row.account}</td>
      <td className="num small">{row.attempts}</td>
    </tr>
  );
}
