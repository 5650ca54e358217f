// The command table, in the order help lists it.
import type { Command } from '../context.js';
import { chainHead } from './chain-head.js';
import { chainTail } from './chain-tail.js';
import { chainVerify } from './chain-verify.js';
import { demo } from './demo.js';
import { keyEnsure, keyNew, keyShow } from './key.js';
import { txSend } from './tx-send.js';
import { txStatus } from './tx-status.js';

export const COMMANDS: readonly Command[] = [txSend, txStatus, chainHead, chainTail, chainVerify, keyNew, keyShow, keyEnsure, demo];
