import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MirrorProvider } from 'mirrorstate-client/react';
import { mirror } from './mirror.js';
import App from './App.jsx';
import './style.css';

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <MirrorProvider mirror={mirror}>
      <App />
    </MirrorProvider>
  </StrictMode>,
);
