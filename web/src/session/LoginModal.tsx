import { Form, Input, Modal, Typography } from 'antd';
import { useState } from 'react';
import { useSession } from './Session.js';

/** Asks for the API token (TAILOR_TOKEN) after the server refused a call with 401. */
export function LoginModal() {
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
      title="Sign in"
      closable={false}
      mask={{ closable: false }}
      keyboard={false}
      okText="Sign in"
      okButtonProps={{ disabled: !value.trim(), 'data-testid': 'login-submit' }}
      cancelButtonProps={{ style: { display: 'none' } }}
      onOk={submit}
      data-testid="login-modal"
    >
      <Typography.Paragraph type="secondary">
        {token
          ? 'The server did not accept the stored token. Enter the current one.'
          : 'This server needs an API token (TAILOR_TOKEN).'}
      </Typography.Paragraph>
      <Form layout="vertical" onFinish={submit}>
        <Form.Item label="Token" style={{ marginBottom: 0 }}>
          <Input.Password
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
