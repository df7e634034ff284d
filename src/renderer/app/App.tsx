// The console shell: one sticky head (navigation, overall status, the connection and alert banners) over the page,
// which scrolls as a whole. Switching screens never scrolls the head away: the page goes to its top and focus moves
// to the screen's heading without scrolling.
import { useEffect, useRef } from 'react';
import { useConnectionState, useTransport } from '../api/provider';
import { useHealth } from '../api/settings';
import { BackfillScreen } from '../features/backfill/BackfillScreen';
import { ChainScreen } from '../features/chain/ChainScreen';
import { FlagsScreen } from '../features/flags/FlagsScreen';
import { MetricsScreen } from '../features/metrics/MetricsScreen';
import { SettingsScreen } from '../features/settings/SettingsScreen';
import { SubscriptionsScreen } from '../features/subscriptions/SubscriptionsScreen';
import { useStickyHeight } from '../components/useStickyHeight';
import { istTime, useNow } from '../format/time';
import { AlertBanner } from './AlertBanner';
import { goTo, SCREENS, useScreen, type ScreenId } from './routes';
import { CONNECTION_WORDS, overallStatus } from './status';
import { ThemeContext, useThemeState, type ThemeChoice } from './theme';

const SCREEN_VIEWS: Record<ScreenId, () => React.JSX.Element> = {
  chain: ChainScreen,
  subscriptions: SubscriptionsScreen,
  backfill: BackfillScreen,
  metrics: MetricsScreen,
  flags: FlagsScreen,
  settings: SettingsScreen,
};

const THEME_LABEL: Record<ThemeChoice, string> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };

export function App() {
  const screen = useScreen();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const theme = useThemeState();
  const head = useRef<HTMLDivElement>(null);
  useStickyHeight(head, '--app-head-h');

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

  // A new screen starts at the top of the page with the head (and any alert) in view. Focus moves to it for
  // keyboard and screen-reader users, without the browser scrolling <main> under the sticky head.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
  }, [screen]);

  const transport = useTransport();
  const View = SCREEN_VIEWS[screen];
  const label = SCREENS.find((s) => s.id === screen)?.label ?? '';
  return (
    <ThemeContext.Provider value={theme.theme}>
      <div className="shell">
        <a
          className="skip-link"
          href="#main"
          onClick={(event) => {
            event.preventDefault();
            main.current?.focus({ preventScroll: true });
          }}
        >
          Skip to content
        </a>
        <div className="app-head" data-testid="app-head" ref={head}>
          <header className="topbar">
            <div className="brand">
              <img src="./favicon.svg" alt="" width={18} height={18} /> Strikedesk
            </div>
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
            <StatusArea themeLabel={THEME_LABEL[theme.choice]} onTheme={theme.cycle} />
          </header>
          <ConnectionBanner />
          {!transport.problem && <AlertBanner />}
        </div>
        <main id="main" ref={main} tabIndex={-1} aria-labelledby="screen-title">
          <h1 id="screen-title" className="sr-only">
            {label}
          </h1>
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
    </ThemeContext.Provider>
  );
}

/** A console that is gone or refuses the token is said once, across the page, in words that say what to do. */
function ConnectionBanner() {
  const connection = useConnectionState();
  if (connection !== 'unreachable' && connection !== 'unauthorized') return null;
  return (
    <div className="conn-banner" role="alert" data-testid="connection-banner" data-state={connection}>
      <strong>{connection === 'unreachable' ? 'Console unreachable.' : 'Not signed in (401).'}</strong> {CONNECTION_WORDS[connection].detail}
    </div>
  );
}

function StatusArea({ themeLabel, onTheme }: { themeLabel: string; onTheme: () => void }) {
  const transport = useTransport();
  const connection = useConnectionState();
  const health = useHealth();
  const now = useNow(1000);
  const status = overallStatus(connection, health.data);
  return (
    <div className="status-area">
      <a href="#/settings" className={`conn conn-${connection} tone-${status.tone}`} title={status.detail} data-testid="connection" data-tone={status.tone}>
        <span className="dot" aria-hidden="true" /> {status.label}
      </a>
      <span className="muted small kind-label">{transport.kind === 'ipc' ? 'desktop' : 'headless'}</span>
      <button type="button" className="theme-toggle" onClick={onTheme} title="Light, dark or as the system says" data-testid="theme-toggle">
        {themeLabel}
      </button>
      <span className="clock mono" aria-label="India time">
        {istTime(now)} IST
      </span>
    </div>
  );
}
