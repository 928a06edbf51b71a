import { App as AntApp, ConfigProvider, theme } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { LiveFeed } from './feed/LiveFeed.js';
import { LiveFeedContext } from './feed/useLiveFeed.js';
import { useT } from './i18n/index.js';
import { ThemeContext } from './prefs/ThemeContext.js';
import { useTheme } from './prefs/theme.js';
import { SessionProvider, useSession } from './session/Session.js';
import { takeTokenFromUrl } from './session/token.js';
import { Shell } from './shell/Shell.js';
import './styles.css';

/** One socket per client: a new token makes a new client, and so a new connection. */
function LiveFeedProvider({ children }: { children: ReactNode }) {
  const { client } = useSession();
  const [feed, setFeed] = useState<LiveFeed | null>(null);
  useEffect(() => {
    const next = new LiveFeed(client);
    setFeed(next);
    next.start();
    return () => next.stop();
  }, [client]);
  if (!feed) return null;
  return <LiveFeedContext.Provider value={feed}>{children}</LiveFeedContext.Provider>;
}

/**
 * antd's defaults put secondary text, white-on-primary buttons and red danger text below the
 * WCAG AA contrast of 4.5:1 (axe flags them); these tokens keep every text at or above it.
 */
const LIGHT_TOKENS = {
  colorPrimary: '#0958d9',
  colorError: '#cf1322',
  colorTextSecondary: 'rgba(0, 0, 0, 0.68)',
  colorTextTertiary: 'rgba(0, 0, 0, 0.6)',
  colorTextDescription: 'rgba(0, 0, 0, 0.68)',
  colorTextPlaceholder: 'rgba(0, 0, 0, 0.6)',
  borderRadius: 6,
};
const DARK_TOKENS = {
  colorPrimary: '#1668dc',
  colorError: '#ff7875',
  colorTextSecondary: 'rgba(255, 255, 255, 0.7)',
  colorTextTertiary: 'rgba(255, 255, 255, 0.62)',
  colorTextDescription: 'rgba(255, 255, 255, 0.7)',
  colorTextPlaceholder: 'rgba(255, 255, 255, 0.6)',
  // Primary-coloured text (links, the selected tab) on the dark background needs a lighter blue
  // than white-on-primary buttons can have.
  colorLink: '#69b1ff',
  borderRadius: 6,
};

const DARK_COMPONENTS = {
  Tabs: { itemSelectedColor: '#69b1ff', itemHoverColor: '#91caff', itemActiveColor: '#91caff' },
};

/** antd's theme and locale follow the user's choices. */
function Root() {
  const themeState = useTheme();
  const { language } = useT();
  return (
    <ThemeContext.Provider value={themeState}>
      <ConfigProvider
        locale={language === 'zh' ? zhCN : enUS}
        theme={{
          algorithm: themeState.dark ? theme.darkAlgorithm : theme.defaultAlgorithm,
          token: themeState.dark ? DARK_TOKENS : LIGHT_TOKENS,
          components: themeState.dark ? DARK_COMPONENTS : undefined,
        }}
      >
        <AntApp>
          <SessionProvider>
            <LiveFeedProvider>
              <Shell />
            </LiveFeedProvider>
          </SessionProvider>
        </AntApp>
      </ConfigProvider>
    </ThemeContext.Provider>
  );
}

takeTokenFromUrl();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
