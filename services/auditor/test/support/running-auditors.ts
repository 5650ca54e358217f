// Auditor services run in-process for the integration tests that start, query and restart them: each with its
// HTTP app on a free loopback port (runService listens in production; here the test does).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '@chainlog/core/http';
import { createLogger } from '@chainlog/core/logging';
import type { AuditorConfig } from '../../src/config.js';
import { AuditorService, type AuditorServiceOptions } from '../../src/service.js';

export class RunningAuditors {
  readonly #servers = new Map<AuditorService, Server>();

  /** Starts a service and waits until it has caught up with the chain. */
  async start(config: AuditorConfig, options: AuditorServiceOptions = {}): Promise<AuditorService> {
    const service = await this.launch(config, options);
    await service.caughtUpNow(60_000);
    return service;
  }

  /** Starts a service without waiting for the chain (its topics may not exist yet). */
  async launch(config: AuditorConfig, options: AuditorServiceOptions = {}): Promise<AuditorService> {
    const service = new AuditorService(config, createLogger('auditor', 'silent'), { topicPollIntervalMs: 200, ...options });
    this.#servers.set(service, await listen(service.app, 0, '127.0.0.1'));
    await service.start();
    return service;
  }

  async stop(service: AuditorService): Promise<void> {
    const server = this.#servers.get(service);
    this.#servers.delete(service);
    if (server !== undefined) await closeServer(server, 5000);
    await service.stop();
  }

  async stopAll(): Promise<void> {
    for (const service of [...this.#servers.keys()]) await this.stop(service);
  }

  /** The most recently started service still running. */
  latest(): AuditorService | undefined {
    return [...this.#servers.keys()].at(-1);
  }

  port(service: AuditorService): number {
    return (this.#servers.get(service)?.address() as AddressInfo).port;
  }

  /** A sample's value from the service's /metrics: the first line of `name` whose labels include `labels`. */
  async metric(service: AuditorService, name: string, labels = ''): Promise<number | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${this.port(service)}/metrics`)).text();
    const line = text.split('\n').find((candidate) => (candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)) && candidate.includes(labels));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  }
}
