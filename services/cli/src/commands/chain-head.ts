// chainlog chain head: the tip of the canonical chain, as the auditor sees it.
import { fetchHead } from '../auditor-api.js';
import type { Command } from '../context.js';
import { formatHead } from '../format.js';

export const chainHead: Command = {
  spec: {
    path: ['chain', 'head'],
    summary: 'show the tip of the canonical chain',
    positionals: { min: 0, max: 0 },
    options: {},
  },
  async run(context) {
    const head = await fetchHead(context.auditor, context.signal);
    context.out.result(formatHead(head, context.out.paint), head);
    return 0;
  },
};
