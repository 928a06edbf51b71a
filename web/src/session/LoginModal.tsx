import { Form, Input, Modal, Typography } from 'antd';
import { useState } from 'react';
import { useT } from '../i18n/index.js';
import { useSession } from './Session.js';

/** Asks for the API token (TAILOR_TOKEN) after the server refused a call with 401. */
export function LoginModal() {
  const { t } = useT();
  const { needsLogin, token, signIn } = useSession();
  const [value, setValue] = useState('');

  const submit = () => {
    const trimmed = value.trim();
    if (!trimmed) return;
    signIn(trimmed);
    setValue('');
  };

  return (
    <Modal
      open={needsLogin}
      title={t('login.title')}
      closable={false}
      mask={{ closable: false }}
      keyboard={false}
      okText={t('login.submit')}
      okButtonProps={{ disabled: !value.trim(), 'data-testid': 'login-submit' }}
      cancelButtonProps={{ style: { display: 'none' } }}
      onOk={submit}
      data-testid="login-modal"
    >
      <Typography.Paragraph type="secondary">
        {token ? t('login.rejected') : t('login.needed')}
      </Typography.Paragraph>
      <Form layout="vertical" onFinish={submit}>
        <Form.Item label={t('login.token')} htmlFor="login-token" style={{ marginBottom: 0 }}>
          <Input.Password
            id="login-token"
            autoFocus
            value={value}
            onChange={(event) => setValue(event.target.value)}
            onPressEnter={submit}
            data-testid="login-token"
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
