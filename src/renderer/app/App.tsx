// The console shell: navigation, the alert banner, connection state and the current screen.
import { useEffect, useRef } from 'react';
import { useConnectionState, useTransport } from '../api/provider';
import { BackfillScreen } from '../features/backfill/BackfillScreen';
import { ChainScreen } from '../features/chain/ChainScreen';
import { FlagsScreen } from '../features/flags/FlagsScreen';
import { MetricsScreen } from '../features/metrics/MetricsScreen';
import { SettingsScreen } from '../features/settings/SettingsScreen';
import { SubscriptionsScreen } from '../features/subscriptions/SubscriptionsScreen';
import { istTime, useNow } from '../format/time';
import { AlertBanner } from './AlertBanner';
import { goTo, SCREENS, useScreen, type ScreenId } from './routes';

const SCREEN_VIEWS: Record<ScreenId, () => React.JSX.Element> = {
  chain: ChainScreen,
  subscriptions: SubscriptionsScreen,
  backfill: BackfillScreen,
  metrics: MetricsScreen,
  flags: FlagsScreen,
  settings: SettingsScreen,
};

export function App() {
  const screen = useScreen();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Alt+1..6 switch screens from anywhere.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const index = Number(event.key) - 1;
      if (Number.isInteger(index) && index >= 0 && index < SCREENS.length) {
        event.preventDefault();
        goTo(SCREENS[index].id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Keyboard and screen-reader users land on the new screen, not back at the top of the nav.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [screen]);

  const transport = useTransport();
  const View = SCREEN_VIEWS[screen];
  return (
    <div className="shell">
      <a className="skip-link" href="#main" onClick={(event) => { event.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">Strikedesk</div>
        <nav aria-label="Screens">
          <ul className="nav">
            {SCREENS.map((s, i) => (
              <li key={s.id}>
                <a href={`#/${s.id}`} aria-current={s.id === screen ? 'page' : undefined} title={`${s.label} (Alt+${i + 1})`}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <StatusArea />
      </header>
      {!transport.problem && <AlertBanner />}
      <main id="main" ref={main} tabIndex={-1} aria-label={SCREENS.find((s) => s.id === screen)?.label}>
        {transport.problem ? (
          <div className="state state-error" role="alert">
            <div className="state-title">Not connected</div>
            <div className="state-message">{transport.problem}</div>
          </div>
        ) : (
          <View />
        )}
      </main>
    </div>
  );
}

function StatusArea() {
  const transport = useTransport();
  const connection = useConnectionState();
  const now = useNow(1000);
  const label = connection === 'open' ? 'live' : connection === 'connecting' ? 'connecting' : 'reconnecting';
  return (
    <div className="status-area">
      <span className={`conn conn-${connection}`} title={`Updates from the console: ${label}`} data-testid="connection">
        <span className="dot" aria-hidden="true" /> {label}
      </span>
      <span className="muted small">{transport.kind === 'ipc' ? 'desktop' : 'headless'}</span>
      <span className="clock mono" aria-label="India time">
        {istTime(now)} IST
      </span>
    </div>
  );
}
