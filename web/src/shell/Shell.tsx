import { Button, Grid, Layout, Select, Spin, Typography, theme } from 'antd';
import { Suspense, lazy, useState } from 'react';
import { ConnectionIndicator } from '../feed/ConnectionIndicator.js';
import { DemoBanner } from './DemoBanner.js';
import { setLanguage, useT, type Language } from '../i18n/index.js';
import { useConsoleModules } from '../modules/registry.js';
import { useThemeChoice } from '../prefs/ThemeContext.js';
import type { ThemeChoice } from '../prefs/theme.js';
import { href, navigate, useRoute } from '../router.js';
import { useSession } from '../session/Session.js';

// Each page is its own chunk: the first load carries the shell and the Tasks page only.
const TasksPage = lazy(() =>
  import('../tasks/TasksPage.js').then((m) => ({ default: m.TasksPage })),
);
// Only a server with a token ever asks for one.
const LoginModal = lazy(() =>
  import('../session/LoginModal.js').then((m) => ({ default: m.LoginModal })),
);
const GalleryPage = lazy(() =>
  import('../gallery/GalleryPage.js').then((m) => ({ default: m.GalleryPage })),
);

function PageFallback() {
  const { t } = useT();
  return (
    <div className="page-fallback" role="status" aria-live="polite">
      <Spin />
      <span className="sr-only">{t('page.loading')}</span>
    </div>
  );
}

export function Shell() {
  const { t, language } = useT();
  const { choice, setChoice } = useThemeChoice();
  const route = useRoute();
  const modules = useConsoleModules();
  const screens = Grid.useBreakpoint();
  const narrow = !screens.md;
  const [collapsed, setCollapsed] = useState<boolean | null>(null);
  const siderCollapsed = collapsed ?? narrow;
  const { token } = theme.useToken();
  const { needsLogin } = useSession();

  const section = route.path.split('/')[1] ?? 'tasks';
  const module = modules?.find((m) => m.type === section);
  const navItems = [
    { key: 'tasks', label: t('nav.tasks') },
    { key: 'gallery', label: t('nav.gallery') },
    ...(modules ?? []).map((m) => ({ key: m.type, label: m.title[language] })),
  ];

  let page;
  if (section === 'tasks') page = <TasksPage />;
  else if (section === 'gallery') page = <GalleryPage />;
  else if (module) page = <module.Page />;
  else if (modules === null) page = <PageFallback />;
  else
    page = (
      <div className="page-fallback" style={{ flexDirection: 'column', alignItems: 'center' }}>
        <Typography.Paragraph>{t('page.notFound')}</Typography.Paragraph>
        <Button type="primary" onClick={() => navigate('/tasks')}>
          {t('page.backToTasks')}
        </Button>
      </div>
    );

  return (
    <Layout className="shell">
      <Layout.Sider
        collapsible
        collapsed={siderCollapsed}
        onCollapse={(value) => setCollapsed(value)}
        collapsedWidth={narrow ? 0 : 64}
        theme="light"
        width={200}
        className="shell-sider"
        style={{ borderInlineEnd: `1px solid ${token.colorBorderSecondary}` }}
        zeroWidthTriggerStyle={{ top: 12 }}
      >
        <nav aria-label={t('nav.menu')}>
          <div className="shell-brand">
            <Typography.Text strong style={{ fontSize: 18 }}>
              {siderCollapsed ? 'T' : t('app.title')}
            </Typography.Text>
          </div>
          <ul className="shell-nav">
            {navItems.map((item) => (
              <li key={item.key}>
                <a
                  href={href(`/${item.key}`)}
                  aria-current={item.key === section ? 'page' : undefined}
                  style={
                    item.key === section
                      ? {
                          background: token.colorFillSecondary,
                          color: token.colorText,
                          boxShadow: `inset 3px 0 0 ${token.colorPrimary}`,
                        }
                      : undefined
                  }
                  title={item.label}
                  onClick={() => narrow && setCollapsed(true)}
                  data-testid={`nav-${item.key}`}
                >
                  {siderCollapsed ? item.label.slice(0, 2) : item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header
          className="shell-header"
          style={{
            background: token.colorBgContainer,
            borderBottom: `1px solid ${token.colorBorderSecondary}`,
          }}
        >
          <ConnectionIndicator />
          <div className="shell-header-tools">
            <Select<Language>
              aria-label={t('header.language')}
              data-testid="language-switch"
              value={language}
              onChange={setLanguage}
              style={{ width: 110 }}
              options={[
                { value: 'zh', label: '简体中文' },
                { value: 'en', label: 'English' },
              ]}
            />
            <Select<ThemeChoice>
              aria-label={t('header.theme')}
              data-testid="theme-switch"
              value={choice}
              onChange={setChoice}
              style={{ width: 130 }}
              options={[
                { value: 'system', label: t('header.themeSystem') },
                { value: 'light', label: t('header.themeLight') },
                { value: 'dark', label: t('header.themeDark') },
              ]}
            />
          </div>
        </Layout.Header>
        <DemoBanner />
        <Layout.Content className="shell-content">
          <main>
            <Suspense fallback={<PageFallback />}>{page}</Suspense>
          </main>
        </Layout.Content>
      </Layout>
      {needsLogin && (
        <Suspense fallback={null}>
          <LoginModal />
        </Suspense>
      )}
    </Layout>
  );
}
