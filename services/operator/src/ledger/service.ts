// Assembles the Ledger operator: leader election, the Ledger controller (its watches, Kafka admin
// connections, Events and metrics) and the HTTP app. main.ts wires it to the real environment; tests build it
// in-process against a real kube-apiserver and the real broker.
import { createHttpApp, type Readiness } from '@chainlog/core/http';
import type { Logger } from '@chainlog/core/logging';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { OperatorConfig } from '../config.js';
import { EventRecorder } from '../kube/events.js';
import { KubeJsonClient } from '../kube/kube-json.js';
import { KubeEventApi, KubeLeaseStore } from '../kube/kube.js';
import { LeaderElector, type Clock } from '../kube/leader-elector.js';
import { createLedgerMetrics } from '../metrics.js';
import { auditorChainStatus } from './chain.js';
import { LedgerController } from './controller.js';
import { LedgerKafka } from './kafka.js';
import type { Ledger } from './types.js';
import { Gauge } from 'prom-client';

export interface LedgerOperatorOptions {
  config: OperatorConfig;
  logger: Logger;
  registry: Registry;
  kubeConfig: KubeConfig;
  clock?: Clock;
  watchTimeoutSeconds?: number;
  /** Reaches a Ledger's Kafka at other bootstrap servers (tests: a bundled Kafka is the local broker). */
  brokersOverride?: (ledger: Ledger) => string | undefined;
}

export interface LedgerOperator {
  app: Express;
  elector: LeaderElector;
  controller: LedgerController;
  readiness(): Readiness;
  start(): void;
  stop(options?: { releaseLease?: boolean }): Promise<void>;
}

export function createLedgerOperator(options: LedgerOperatorOptions): LedgerOperator {
  const { config, logger, registry, kubeConfig } = options;
  const kube = new KubeJsonClient(kubeConfig, config.kubeRequestTimeoutMs);
  const kafka = new LedgerKafka(kube, logger, options.brokersOverride);
  const controller: LedgerController = new LedgerController({
    kube,
    kubeConfig,
    namespace: config.namespace,
    kafka,
    events: new EventRecorder(new KubeEventApi(kubeConfig, config.kubeRequestTimeoutMs), config.identity, logger),
    leadership: { isLeader: () => elector.isLeader() },
    metrics: createLedgerMetrics(registry),
    logger,
    render: { defaultImageTag: config.defaultImageTag },
    resyncIntervalMs: config.resyncIntervalMs,
    chainStatus: auditorChainStatus(config.auditorUrlTemplate),
    ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
  });
  const elector: LeaderElector = new LeaderElector({
    store: new KubeLeaseStore(kubeConfig, config.namespace, config.leaseName, Math.min(config.kubeRequestTimeoutMs, Math.round((config.leaseDurationSeconds * 2000) / 3)), config.operatorDeployment),
    identity: config.identity,
    leaseDurationSeconds: config.leaseDurationSeconds,
    logger: logger.child({ component: 'leader-election', lease: config.leaseName }),
    ...(options.clock ? { clock: options.clock } : {}),
    onChange: (leading) => {
      if (leading) controller.resync('became-leader');
    },
  });
  new Gauge({
    name: 'chainlog_operator_is_leader',
    help: '1 while this instance holds the leader Lease (and may act), else 0',
    registers: [registry],
    collect() {
      this.set(elector.isLeader() ? 1 : 0);
    },
  });

  let stopping = false;
  const readiness = (): Readiness => {
    const detail = { namespace: config.namespace, leader: elector.isLeader() };
    if (stopping) return { ready: false, detail: { ...detail, reason: 'shutting down' } };
    const watch = controller.readiness();
    return watch.ready ? { ready: true, detail } : { ready: false, detail: { ...detail, reason: watch.reason } };
  };
  const { app, finish } = createHttpApp({ logger, registry, readiness });
  app.get('/status', (_req, res) => {
    res.json({ leaderElection: { lease: config.leaseName, ...elector.status() }, ...controller.status() });
  });
  finish();

  return {
    app,
    elector,
    controller,
    readiness,
    start() {
      elector.start();
      controller.start();
    },
    async stop(stopOptions = {}) {
      stopping = true;
      await controller.stop();
      await elector.stop({ release: stopOptions.releaseLease ?? true });
      await kafka.close();
    },
  };
}
