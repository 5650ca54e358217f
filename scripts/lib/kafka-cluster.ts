// A local multi-node Apache Kafka cluster (KRaft): N processes, each broker and controller at once
// (combined mode), all of them quorum voters, one data dir each under <dataDir>/node-<id>. With three nodes it
// survives the loss of any one, the active controller included; topics created on it get three replicas with
// min.insync.replicas=2 (replicationDefaults, and ensureTopics in @chainlog/core).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { clusterIdIn, runningBrokerPid, startBroker, stopBrokerProcess, type RunningBroker } from './kafka-broker.js';
import { allocatePorts } from './ports.js';

export interface ClusterOptions {
  dataDir: string;
  /** Number of nodes (1, or 3 and more for a cluster that tolerates a lost node). */
  nodes: number;
  /** Client and controller port of each node; free ports when absent. */
  ports?: { port: number; controllerPort: number }[];
  heapMb?: number;
  extraProperties?: Record<string, string>;
}

export interface ClusterNode {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** SIGKILL: the node crashes (no controlled shutdown); SIGTERM: a controlled shutdown. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts the node again on the same data dir and ports; resolves once it answers. */
  start(): Promise<void>;
}

export interface RunningCluster {
  /** Bootstrap servers: every node, comma-separated. */
  readonly brokers: string;
  readonly nodes: readonly ClusterNode[];
  node(id: number): ClusterNode;
  /** Id of the node leading a partition, from the metadata of any live node. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Id of the active controller (the KRaft quorum leader), from the live nodes' quorum state logs. */
  activeController(): number | undefined;
  /** Resolves once every node is a broker the cluster sees and every partition of the topics has its full ISR. */
  waitUntilHealthy(topics: string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The `controller.quorum.voters` line: id@host:controllerPort for every node. */
export function quorumVoters(ports: readonly { controllerPort: number }[]): string {
  return ports.map(({ controllerPort }, index) => `${index + 1}@127.0.0.1:${controllerPort}`).join(',');
}

function pairs(ports: number[]): { port: number; controllerPort: number }[] {
  return Array.from({ length: ports.length / 2 }, (_, i) => ({ port: ports[2 * i] as number, controllerPort: ports[2 * i + 1] as number }));
}

export function nodeDir(dataDir: string, id: number): string {
  return join(dataDir, `node-${id}`);
}

/**
 * The active controller as the quorum state logs say: each node logs "Completed transition to <State>(...
 * epoch=N ...)" (org.apache.kafka.raft.QuorumState, INFO). The live node whose latest transition is to Leader
 * in the highest epoch seen among the live nodes leads the quorum. kafkajs has no DescribeQuorum request, and a
 * KRaft broker's metadata response names a random broker as "controller", so the logs are the source.
 */
export function leaderFromQuorumLogs(logs: ReadonlyMap<number, string>): number | undefined {
  let best: { id: number; epoch: number; leader: boolean } | undefined;
  for (const [id, text] of logs) {
    const transitions = [...text.matchAll(/Completed transition to (\w+)\(.*?\bepoch=(\d+)/g)];
    const last = transitions.at(-1);
    if (last === undefined) continue;
    const epoch = Number(last[2]);
    const leader = last[1] === 'Leader' || last[1] === 'LeaderState';
    if (best === undefined || epoch > best.epoch || (epoch === best.epoch && leader)) best = { id, epoch, leader };
  }
  return best?.leader === true ? best.id : undefined;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

class Node implements ClusterNode {
  #broker: RunningBroker | undefined;

  readonly #launch: () => Promise<RunningBroker>;

  constructor(
    readonly id: number,
    readonly port: number,
    readonly controllerPort: number,
    readonly dataDir: string,
    launch: () => Promise<RunningBroker>,
  ) {
    this.#launch = launch;
  }

  get pid(): number | undefined {
    return this.#broker?.pid ?? runningBrokerPid(this.dataDir);
  }

  get alive(): boolean {
    return runningBrokerPid(this.dataDir) !== undefined;
  }

  async start(): Promise<void> {
    this.#broker = await this.#launch();
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    if (signal === 'SIGKILL') {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await stopBrokerProcess(pid);
    this.#broker = undefined;
  }
}

/** Formats (first start only) and starts every node at once: a quorum needs a majority before any answers. */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new Error(`a cluster needs at least one node, got ${options.nodes}`);
  const ports = options.ports ?? pairs(await allocatePorts(2 * options.nodes, { purpose: 'kafka cluster' }));
  if (ports.length !== options.nodes) throw new Error(`${options.nodes} nodes need ${options.nodes} port pairs, got ${ports.length}`);
  const clusterId = clusterIdIn(options.dataDir);
  const voters = quorumVoters(ports);
  const nodes = ports.map(({ port, controllerPort }, index) => {
    const id = index + 1;
    const dataDir = nodeDir(options.dataDir, id);
    const launch = (): Promise<RunningBroker> =>
      startBroker({
        dataDir,
        port,
        controllerPort,
        heapMb: options.heapMb ?? 384,
        node: { id, quorumVoters: voters, clusterId, clusterSize: options.nodes },
        startTimeoutMs: 180_000,
        ...(options.extraProperties ? { extraProperties: options.extraProperties } : {}),
      });
    return new Node(id, port, controllerPort, dataDir, launch);
  });
  const started = await Promise.allSettled(nodes.map((node) => node.start()));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(nodes.map((node) => node.kill('SIGTERM')));
    throw failed.reason;
  }
  return cluster(nodes);
}

function cluster(nodes: Node[]): RunningCluster {
  const brokers = nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  const client = (): Kafka =>
    new Kafka({
      brokers: nodes.filter((node) => node.alive).map((node) => `127.0.0.1:${node.port}`),
      clientId: 'chainlog-cluster-probe',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retry: { retries: 2 },
    });
  const withAdmin = async <T>(use: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const admin = client().admin();
    await admin.connect();
    try {
      return await use(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
  return {
    brokers,
    nodes,
    node(id) {
      const found = nodes.find((node) => node.id === id);
      if (found === undefined) throw new Error(`no node ${id} in this cluster`);
      return found;
    },
    leaderOf: (topic, partition) =>
      withAdmin(async (admin) => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
        if (leader === undefined || leader < 0) throw new Error(`${topic}-${partition} has no leader`);
        return leader;
      }),
    activeController() {
      const logs = new Map(nodes.filter((node) => node.alive).map((node) => [node.id, readLog(join(node.dataDir, 'broker.log'))] as const));
      return leaderFromQuorumLogs(logs);
    },
    async waitUntilHealthy(topics, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      let problem = 'not checked yet';
      for (;;) {
        try {
          problem = await withAdmin(async (admin) => {
            const { brokers: live } = await admin.describeCluster();
            if (live.length < nodes.length) return `${live.length} of ${nodes.length} brokers registered`;
            if (topics.length === 0) return '';
            const metadata = await admin.fetchTopicMetadata({ topics });
            for (const topic of metadata.topics) {
              for (const p of topic.partitions) {
                if (p.isr.length < p.replicas.length) return `${topic.name}-${p.partitionId} has ISR ${p.isr.join(',')} of replicas ${p.replicas.join(',')}`;
              }
            }
            return '';
          });
        } catch (error) {
          problem = (error as Error).message;
        }
        if (problem === '') return;
        if (Date.now() > deadline) throw new Error(`the Kafka cluster is not healthy after ${timeoutMs} ms: ${problem}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async stop() {
      await Promise.allSettled(nodes.map((node) => node.kill('SIGTERM')));
    },
  };
}

/** Stops every node recorded under a cluster data dir; false when none ran. */
export async function stopClusterInDir(dataDir: string, maxNodes = 16): Promise<boolean> {
  let stopped = false;
  for (let id = 1; id <= maxNodes && existsSync(nodeDir(dataDir, id)); id++) {
    const pid = runningBrokerPid(nodeDir(dataDir, id));
    if (pid !== undefined) {
      await stopBrokerProcess(pid);
      stopped = true;
    }
  }
  return stopped;
}
