// Assembles the operator from its parts: leader election, the StatefulSet watch, the partition poll, the
// reconciler, Events and the HTTP app. main.ts wires it to the real environment; tests build it in-process
// against a real kube-apiserver and the real broker.
import { createHttpApp, type Readiness } from '@chainlog/core/http';
import type { Logger } from '@chainlog/core/logging';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Express } from 'express';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { EventRecorder } from './kube/events.js';
import { KubeEventApi, KubeLeaseStore, StatefulSetClient } from './kube/kube.js';
import { LeaderElector, type Clock } from './kube/leader-elector.js';
import { StatefulSetWatcher } from './kube/statefulset-watcher.js';
import { TopicPartitions } from './kafka/topic.js';
import type { OperatorConfig } from './config.js';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.js';
import { Reconciler } from './reconciler.js';

export interface OperatorOptions {
  config: OperatorConfig;
  logger: Logger;
  registry: Registry;
  kubeConfig: KubeConfig;
  kafka: Kafka;
  clock?: Clock;
  /** Server-side timeout of each StatefulSet watch request (tests shorten it). */
  watchTimeoutSeconds?: number;
}

export interface Operator {
  app: Express;
  elector: LeaderElector;
  reconciler: Reconciler;
  watcher: StatefulSetWatcher;
  topic: TopicPartitions;
  metrics: OperatorMetrics;
  readiness(): Readiness;
  status(): Record<string, unknown>;
  /** Starts leader election, the watch, the partition poll and the reconciler. */
  start(): void;
  /**
   * Stops everything. `releaseLease` (default true, a graceful stop) hands the Lease back so a stand-by takes
   * over at once; false simulates a crash: the Lease runs out after its duration.
   */
  stop(options?: { releaseLease?: boolean }): Promise<void>;
}

export function createOperator(options: OperatorOptions): Operator {
  const { config, logger, registry, kubeConfig, kafka } = options;
  const statefulSets = new StatefulSetClient(kubeConfig, config.namespace, config.minerStatefulSet, config.kubeRequestTimeoutMs);

  // The parts call each other through closures (a partition change or a new leader triggers a reconcile);
  // every closure runs only after start(), when all of them exist.
  const metrics = createOperatorMetrics(registry, () => elector.isLeader());
  const topic = new TopicPartitions({
    kafka,
    topic: config.topics.transactions,
    pollIntervalMs: config.kafkaPollIntervalMs,
    logger,
    onChange: () => reconciler.trigger('partitions-changed'),
  });
  const events = new EventRecorder(new KubeEventApi(kubeConfig, config.kubeRequestTimeoutMs), config.identity, logger);
  const reconciler = new Reconciler({
    statefulSets,
    topic,
    events,
    leadership: { isLeader: () => elector.isLeader() },
    metrics,
    logger,
    maxPartitions: config.maxPartitions,
    configuredPartitions: config.configuredPartitions,
    resyncIntervalMs: config.resyncIntervalMs,
  });
  const elector = new LeaderElector({
    // A renewal that takes longer than the renew deadline is useless: bound lease requests by it.
    store: new KubeLeaseStore(kubeConfig, config.namespace, config.leaseName, Math.min(config.kubeRequestTimeoutMs, Math.round((config.leaseDurationSeconds * 2000) / 3)), config.operatorDeployment),
    identity: config.identity,
    leaseDurationSeconds: config.leaseDurationSeconds,
    logger: logger.child({ component: 'leader-election', lease: config.leaseName }),
    ...(options.clock ? { clock: options.clock } : {}),
    onChange: (leading) => {
      if (leading) reconciler.trigger('became-leader');
    },
  });
  const watcher = new StatefulSetWatcher({
    kubeConfig,
    client: statefulSets,
    logger,
    onChange: () => reconciler.trigger('statefulset-changed'),
    ...(options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
  });

  let stopping = false;
  const readiness = (): Readiness => {
    const watch = watcher.state();
    const kafkaState = topic.state();
    const detail = {
      statefulSet: `${config.namespace}/${config.minerStatefulSet}`,
      topic: config.topics.transactions,
      partitions: kafkaState.partitions,
      leader: elector.isLeader(),
    };
    if (stopping) return { ready: false, detail: { ...detail, reason: 'shutting down' } };
    if (!watch.established) return { ready: false, detail: { ...detail, reason: watch.reason } };
    if (!kafkaState.reachable) return { ready: false, detail: { ...detail, reason: kafkaState.reason } };
    return { ready: true, detail };
  };
  const status = (): Record<string, unknown> => ({
    statefulSet: { namespace: config.namespace, name: config.minerStatefulSet, current: watcher.current() },
    topic: { name: config.topics.transactions, ...topic.state() },
    leaderElection: { lease: config.leaseName, ...elector.status() },
    reconcile: reconciler.status(),
  });

  const { app, finish } = createHttpApp({ logger, registry, readiness });
  app.get('/status', (_req, res) => {
    res.json(status());
  });
  finish();

  return {
    app,
    elector,
    reconciler,
    watcher,
    topic,
    metrics,
    readiness,
    status,
    start() {
      elector.start();
      watcher.start();
      topic.start();
      reconciler.start();
    },
    async stop(stopOptions = {}) {
      stopping = true;
      watcher.stop();
      await reconciler.stop();
      await elector.stop({ release: stopOptions.releaseLease ?? true });
      await topic.stop();
    },
  };
}
