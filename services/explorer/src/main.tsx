// Entry point. The protocol's code (verify/checks.ts) is a chunk of its own, loaded when a page verifies.
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) {
  render(<App />, root);
  performance.mark('chainlog-explorer-rendered');
}
