import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiProvider, newQueryClient } from './api/provider';
import { defaultTransport } from './api/transport';
import { App } from './app/App';
import './styles.css';

const transport = defaultTransport();
const client = newQueryClient();

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <ApiProvider transport={transport} client={client}>
      <App />
    </ApiProvider>
  </StrictMode>,
);
