// Firing alerts, on every screen. Quiet when the alerting service is not running (its screen says so). A silenced
// rule does not raise it; an acknowledged alert still shows, with who took it, so nobody takes it twice.
import { useAlerts } from '../api/metrics';
import { istTime } from '../format/time';

export function AlertBanner() {
  const alerts = useAlerts();
  const firing = (alerts.data?.active ?? []).filter((a) => a.state === 'firing' && !a.silence);
  if (firing.length === 0) return null;
  const allTaken = firing.every((a) => a.acknowledged);
  return (
    <div className={`alert-banner${allTaken ? ' alert-banner-acked' : ''}`} role="alert" data-testid="alert-banner">
      <strong>{firing.length === 1 ? 'Alert firing' : `${firing.length} alerts firing`}</strong>
      <ul>
        {firing.map((alert) => (
          <li key={alert.id} data-rule={alert.rule}>
            <span className="mono">{alert.rule}</span>: {alert.message} <span className="muted small">since {istTime(alert.firedAt)} IST</span>
            {alert.acknowledged && (
              <span className="small banner-ack" data-testid="banner-ack">
                {' '}
                · acknowledged by <strong>{alert.acknowledged.by}</strong> at {istTime(alert.acknowledged.at)} IST: “{alert.acknowledged.reason}”
              </span>
            )}
          </li>
        ))}
      </ul>
      <a href="#/metrics">Open metrics</a>
    </div>
  );
}
