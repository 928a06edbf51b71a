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
          token: { colorPrimary: '#1677ff', borderRadius: 6 },
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
