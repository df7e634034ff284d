// "Subscribing N strikes, M live": a chain nobody subscribed fills in as its first bars arrive (main subscribes
// nearest ATM first, within the ticker's 30 subscriptions a minute, which is why a cold chain is slow and says so).
// Failures show their reason and when they will be retried. A chain that is not live never says "live".
import type { StrikeDistribution } from '../../../shared/api';
import { Badge, ProgressBar } from '../../components/Bits';
import { istTime } from '../../format/time';
import { fillProgress, fillText, type LivenessView } from './chainModel';

/** The ticker service accepts this many subscription calls a minute. */
export const SUBSCRIPTIONS_PER_MINUTE = 30;

export function SubscriptionStrip({ distribution, liveness }: { distribution: StrikeDistribution; liveness: LivenessView }) {
  const progress = fillProgress(distribution);
  const sub = distribution.metadata.subscription;
  const complete = !progress.filling && progress.liveStrikes === progress.strikes;
  const text = fillText(progress, sub.state === 'disabled', liveness);
  const minutesLeft = Math.ceil(progress.pending / SUBSCRIPTIONS_PER_MINUTE);

  return (
    <div
      className={`fill-strip${progress.filling ? ' filling' : ''}${liveness.state !== 'live' ? ' not-live' : ''}`}
      data-testid="fill-status"
      data-filling={progress.filling}
      data-strikes={progress.strikes}
      data-live={progress.liveStrikes}
      role="status"
      aria-live="polite"
    >
      <span className="fill-text">{text}</span>
      <ProgressBar done={progress.live} total={progress.legs} label="Legs with data" tone={progress.failed ? 'warn' : complete ? 'ok' : 'info'} />
      <span className="small muted">
        {progress.live}/{progress.legs} legs
        {progress.pending > 0 && ` · ${progress.pending} pending`}
        {progress.missing > 0 && ` · ${progress.missing} not subscribed`}
      </span>
      {distribution.metadata.auto_subscribed && sub.newly.length > 0 && <Badge tone="info">auto-subscribed {sub.newly.length} now</Badge>}
      {sub.failed.length > 0 && (
        <details className="fill-failures">
          <summary>
            <Badge tone="bad">{sub.failed.length} failed</Badge>
          </summary>
          <ul className="small">
            {sub.failed.slice(0, 20).map((f) => (
              <li key={f.token}>
                <span className="mono">{f.token}</span>: {f.reason}
                {f.retryAt && <span className="muted"> · retry at {istTime(f.retryAt)}</span>}
              </li>
            ))}
            {sub.failed.length > 20 && <li className="muted">…and {sub.failed.length - 20} more</li>}
          </ul>
        </details>
      )}
      {progress.filling && (
        <span className="small muted" data-testid="cold-chain-why">
          Slow on purpose: the ticker takes {SUBSCRIPTIONS_PER_MINUTE} subscriptions a minute, nearest ATM first
          {progress.pending > 0 ? ` · about ${minutesLeft} min for the ${progress.pending} pending` : ''}
        </span>
      )}
      {sub.retry_after_ms !== null && sub.retry_after_ms > 0 && <span className="small muted">next attempt in {Math.ceil(sub.retry_after_ms / 1000)} s</span>}
    </div>
  );
}
