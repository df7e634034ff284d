// Capacity: Kite streams 3000 instruments per connection and 3 connections per account; beyond that a
// subscription is accepted but never streams, so the screen shows how close each one is.
import type { CapacityView } from '../../../shared/api';
import { useCapacity } from '../../api/subscriptions';
import { ProgressBar, Section, type Tone } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { fmtInt } from '../../format/numbers';

const toneOf = (used: number, limit: number): Tone => (limit > 0 && used / limit >= 0.95 ? 'bad' : limit > 0 && used / limit >= 0.8 ? 'warn' : 'ok');

export function CapacityPanel() {
  const capacity = useCapacity();
  return (
    <Section title="Capacity" id="capacity-title">
      <QueryView query={capacity} what="capacity">
        {(view) => <CapacityBars view={view} />}
      </QueryView>
    </Section>
  );
}

function CapacityBars({ view }: { view: CapacityView }) {
  if (view.accounts.length === 0) return <p className="muted">No account is streaming.</p>;
  return (
    <div className="capacity">
      {view.accounts.map((account) => (
        <div key={account.account} className="capacity-account" data-testid={`capacity-${account.account}`}>
          <div className="capacity-line">
            <strong>{account.account}</strong>
            <ProgressBar done={account.used} total={account.limit} label={`Account ${account.account} capacity`} tone={toneOf(account.used, account.limit)} />
            <span className="mono small">
              {fmtInt(account.used)} / {fmtInt(account.limit)}
            </span>
          </div>
          {account.connections.map((c) => (
            <div key={c.index} className="capacity-line sub">
              <span className="small muted">connection {c.index + 1}</span>
              <ProgressBar
                done={c.used}
                total={view.perConnection}
                label={`Connection ${c.index + 1} of ${account.account}`}
                tone={toneOf(c.used, view.perConnection)}
              />
              <span className="mono small">
                {fmtInt(c.used)} / {fmtInt(view.perConnection)}
              </span>
            </div>
          ))}
        </div>
      ))}
      <p className="small muted">
        {fmtInt(view.perConnection)} instruments per connection × {view.connectionsPerAccount} connections per account.
      </p>
    </div>
  );
}
