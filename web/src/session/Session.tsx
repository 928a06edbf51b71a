import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { TailorClient } from '../../../src/client/index.js';
import { browserSocket } from './browserSocket.js';
import { loadToken, saveToken } from './token.js';

export interface Session {
  client: TailorClient;
  token: string | null;
  /** True after the server answered 401: the login modal is shown until a token is entered. */
  needsLogin: boolean;
  signIn(token: string): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(loadToken);
  const [needsLogin, setNeedsLogin] = useState(false);

  const client = useMemo(() => {
    // Every call goes through the typed client; this fetch only notices a 401 so the console can
    // ask for a token, then lets the client turn the response into its usual TailorApiError.
    const watchedFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401) setNeedsLogin(true);
      return response;
    };
    return new TailorClient({
      baseUrl: window.location.origin,
      token,
      fetch: watchedFetch,
      WebSocket: browserSocket,
    });
  }, [token]);

  const signIn = useCallback((next: string) => {
    saveToken(next);
    setToken(next);
    setNeedsLogin(false);
  }, []);

  const session = useMemo(
    () => ({ client, token, needsLogin, signIn }),
    [client, token, needsLogin, signIn],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
