import { App as AntApp, ConfigProvider } from 'antd';
import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { ConsoleApp } from './App.js';
import { LiveFeed } from './feed/LiveFeed.js';
import { LiveFeedContext } from './feed/useLiveFeed.js';
import { SessionProvider, useSession } from './session/Session.js';
import { takeTokenFromUrl } from './session/token.js';
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

takeTokenFromUrl();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConfigProvider theme={{ token: { colorPrimary: '#1677ff', borderRadius: 6 } }}>
      <AntApp>
        <SessionProvider>
          <LiveFeedProvider>
            <ConsoleApp />
          </LiveFeedProvider>
        </SessionProvider>
      </AntApp>
    </ConfigProvider>
  </StrictMode>,
);
