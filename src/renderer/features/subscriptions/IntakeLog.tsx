// The event intake log: subscription events from the webhook, Redis and the poll reconciler, with what became of each.
import type { IntakeEvent } from '../../../shared/api';
import { useIntakeEvents } from '../../api/subscriptions';
import { Badge, Section, type Tone } from '../../components/Bits';
import { QueryView } from '../../components/States';
import { istDateTime } from '../../format/time';

const TONE: Record<IntakeEvent['state'], Tone> = { queued: 'info', processing: 'info', done: 'ok', failed: 'bad', duplicate: 'muted' };

export function IntakeLog() {
  const events = useIntakeEvents(200);
  return (
    <Section title="Event intake" id="intake-title">
      <QueryView query={events} what="the event intake log">
        {(list) =>
          list.length === 0 ? (
            <p className="muted">No subscription events received yet (webhook, Redis or poll).</p>
          ) : (
            <div className="table-scroll short">
              <table className="table" data-testid="intake-log">
                <thead>
                  <tr>
                    <th scope="col">Received (IST)</th>
                    <th scope="col">Source</th>
                    <th scope="col">Event</th>
                    <th scope="col">Instrument</th>
                    <th scope="col">State</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((e) => (
                    <tr key={e.id}>
                      <td className="nowrap small" title={`occurred ${e.occurredAt}`}>
                        {istDateTime(e.receivedAt)}
                      </td>
                      <td>
                        <span className="chip">{e.source}</span>
                      </td>
                      <td>{e.type}</td>
                      <td>
                        <span className="mono">{e.tradingsymbol ?? e.token}</span>
                      </td>
                      <td>
                        <Badge tone={TONE[e.state]}>{e.state}</Badge>
                      </td>
                      <td className="small wrap">{e.outcome ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
    </Section>
  );
}
