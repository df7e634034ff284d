// Firing alerts, on every screen. Quiet when the alerting service is not running (its screen says so).
import { useAlerts } from '../api/metrics';
import { istTime } from '../format/time';

export function AlertBanner() {
  const alerts = useAlerts();
  const firing = (alerts.data?.active ?? []).filter((a) => a.state === 'firing');
  if (firing.length === 0) return null;
  return (
    <div className="alert-banner" role="alert" data-testid="alert-banner">
      <strong>{firing.length === 1 ? 'Alert firing' : `${firing.length} alerts firing`}</strong>
      <ul>
        {firing.map((alert) => (
          <li key={alert.id}>
            <span className="mono">{alert.rule}</span>: {alert.message} <span className="muted small">since {istTime(alert.firedAt)} IST</span>
          </li>
        ))}
      </ul>
      <a href="#/metrics">Open metrics</a>
    </div>
  );
}
