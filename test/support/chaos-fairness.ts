// Fairness under attack (docs/reliability.md, hostile HTTP): one client holds hundreds of slow connections
// that never finish their bodies, then another floods ingest with requests, while an honest client keeps
// writing one transaction at a time. Each comes from its own loopback address (127.0.0.2, 127.0.0.3,
// 127.0.0.1: Linux routes all of 127/8 to lo), so ingest tells them apart by peer address exactly as it
// would tell apart hosts. Figures: the share of honest writes answered 202, and what the attackers got.
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';
import { sleep, type Outcomes } from './chaos.js';

export interface FairnessOptions {
  ingestUrl: string;
  outcomes: Outcomes;
  idPrefix: string;
  /** Connections the slow client opens, each sending headers and then a byte of its body now and then. */
  slowConnections: number;
  /** Requests per second the flooding client aims at, for floodSeconds. */
  floodRps: number;
  floodSeconds: number;
  /** Valid flood transactions (each 202 must then be committed); false: amount 0, refused after admission. */
  floodValid: boolean;
  /** How long the honest client writes while the slow connections are open. */
  slowPhaseSeconds: number;
  /** Honest writes per second (one transaction each, sequential). */
  honestRps: number;
}

export interface PhaseFigures {
  honestSent: number;
  honestAccepted: number;
  /** Share of honest writes answered 202, in percent. */
  honestAcceptedPercent: number;
  honestStatuses: Record<string, number>;
  attackerStatuses: Record<string, number>;
}

export interface FairnessResult {
  slow: PhaseFigures & { connections: number };
  flood: PhaseFigures & { sent: number; tooMany: number; achievedRps: number };
}

const HONEST = '127.0.0.1';
const SLOW = '127.0.0.2';
const FLOOD = '127.0.0.3';

function count(into: Record<string, number>, key: number | string): void {
  into[String(key)] = (into[String(key)] ?? 0) + 1;
}

/** One POST from a given local address; resolves with the status (0: no answer). */
function post(url: URL, body: string, localAddress: string, agent?: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/v1/transactions', method: 'POST', localAddress, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 30_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

/** Writes honestly until `until` says stop; every id is recorded so the ledger check covers them. */
async function honestClient(url: URL, options: FairnessOptions, tag: string, stop: () => boolean): Promise<Pick<PhaseFigures, 'honestSent' | 'honestAccepted' | 'honestStatuses'>> {
  const statuses: Record<string, number> = {};
  let sent = 0;
  let accepted = 0;
  while (!stop()) {
    const id = `${options.idPrefix}-honest-${tag}-${sent}`;
    const started = Date.now();
    const status = await post(url, JSON.stringify({ id, from: 'honest', to: 'shop', amount: 1 }), HONEST);
    sent += 1;
    if (status === 202) accepted += 1;
    count(statuses, status);
    options.outcomes.note(status === 0 ? 'error' : status);
    options.outcomes.record(id, status === 0 ? 'error' : status);
    await sleep(Math.max(0, 1000 / options.honestRps - (Date.now() - started)));
  }
  return { honestSent: sent, honestAccepted: accepted, honestStatuses: statuses };
}

function figures(honest: Pick<PhaseFigures, 'honestSent' | 'honestAccepted' | 'honestStatuses'>, attackerStatuses: Record<string, number>): PhaseFigures {
  return { ...honest, honestAcceptedPercent: honest.honestSent === 0 ? 0 : Math.round((1000 * honest.honestAccepted) / honest.honestSent) / 10, attackerStatuses };
}

/** A connection that sends its headers and then one body byte every few seconds, never all of it. */
function slowConnection(url: URL, statuses: Record<string, number>): Socket {
  const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: SLOW });
  let answer = '';
  socket.on('connect', () => {
    socket.write(`POST /v1/transactions HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    const drip = setInterval(() => socket.writable && socket.write(' '), 3000);
    socket.once('close', () => clearInterval(drip));
  });
  socket.on('data', (chunk) => (answer += chunk.toString()));
  socket.on('error', () => undefined);
  socket.once('close', () => count(statuses, /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed'));
  return socket;
}

export async function runFairness(options: FairnessOptions): Promise<FairnessResult> {
  const url = new URL(options.ingestUrl);

  // Phase 1: slow connections from one client, honest writes from another.
  const slowStatuses: Record<string, number> = {};
  const sockets = Array.from({ length: options.slowConnections }, () => slowConnection(url, slowStatuses));
  await sleep(1000);
  const slowUntil = Date.now() + options.slowPhaseSeconds * 1000;
  const slowHonest = await honestClient(url, options, 'slow', () => Date.now() > slowUntil);
  for (const socket of sockets) socket.destroy();
  await sleep(500);

  // Phase 2: a flood from a third client (keep-alive, as a real load tool), honest writes again.
  const floodStatuses: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let floodSent = 0;
  let floodStop = false;
  const floodStarted = Date.now();
  const flooding = (async () => {
    const interval = 1000 / options.floodRps;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; Date.now() - floodStarted < options.floodSeconds * 1000; i++) {
      const due = floodStarted + i * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      const id = `${options.idPrefix}-flood-${i}`;
      floodSent += 1;
      const sending: Promise<void> = post(url, JSON.stringify({ id, from: 'flood', to: 'shop', amount: options.floodValid ? 1 : 0 }), FLOOD, agent).then((status) => {
        count(floodStatuses, status);
        options.outcomes.note(status === 0 ? 'error' : status);
        options.outcomes.record(id, status === 0 ? 'error' : status);
        inFlight.delete(sending);
      });
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
    floodStop = true;
  })();
  const floodHonest = await honestClient(url, options, 'flood', () => floodStop);
  await flooding;
  agent.destroy();
  const floodSeconds = (Date.now() - floodStarted) / 1000;

  return {
    slow: { ...figures(slowHonest, slowStatuses), connections: options.slowConnections },
    flood: {
      ...figures(floodHonest, floodStatuses),
      sent: floodSent,
      tooMany: floodStatuses['429'] ?? 0,
      achievedRps: Math.round(floodSent / floodSeconds),
    },
  };
}

/** One line per phase for the chaos report. */
export function fairnessNotes(result: FairnessResult): string[] {
  const { slow, flood } = result;
  return [
    `fairness, ${slow.connections} slow connections from one client: honest writes ${slow.honestAccepted}/${slow.honestSent} answered 202 (${slow.honestAcceptedPercent} %), ${JSON.stringify(slow.honestStatuses)}; the slow client got ${JSON.stringify(slow.attackerStatuses)}`,
    `fairness, flood of ${flood.achievedRps} requests/s from one client: ${flood.tooMany} of ${flood.sent} answered 429 (${JSON.stringify(flood.attackerStatuses)}); honest writes ${flood.honestAccepted}/${flood.honestSent} answered 202 (${flood.honestAcceptedPercent} %)`,
  ];
}

/**
 * What fairness promises: honest writes keep being accepted (at least 95 %; the rest may be Kafka's own
 * hiccups), the slow client is refused beyond its share (429) or cut off (408), the flood sees 429s.
 */
export function expectFair(result: FairnessResult): void {
  expect(result.slow.honestSent).toBeGreaterThan(0);
  expect(result.slow.honestAcceptedPercent).toBeGreaterThanOrEqual(95);
  expect(result.slow.honestStatuses['503'] ?? 0).toBe(0);
  expect(result.slow.attackerStatuses['429'] ?? 0).toBeGreaterThan(0);
  expect(result.flood.honestAcceptedPercent).toBeGreaterThanOrEqual(95);
  expect(result.flood.tooMany).toBeGreaterThan(0);
}
