// Entry point. Buffer must be installed before the protocol's modules run: keep this import first.
import './platform/buffer.js';
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) {
  render(<App />, root);
  performance.mark('chainlog-explorer-rendered');
}
