// npm run kafka:start / kafka:stop: the local development broker (kafka:fetch only downloads the jars).
// Configure with KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (.data/kafka) and
// CHAINLOG_KAFKA_VERSION (default: the newest 4.x; 3.9.x supported). `-- --nodes 3` (or KAFKA_NODES=3) runs a
// three-node KRaft cluster instead, in <KAFKA_DATA_DIR>-cluster, node i on KAFKA_PORT + i.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBrokerJars, KAFKA_VERSION, runningBrokerPid, startBroker, stopBrokerInDir } from './lib/kafka-broker.js';
import { nodeDir, startCluster, stopClusterInDir } from './lib/kafka-cluster.js';
import { kafkaNodePorts } from './lib/start-options.js';

function integerFromEnv(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { nodes: { type: 'string' } } });
  const command = positionals[0];
  const dataDir = resolve(process.env.KAFKA_DATA_DIR ?? '.data/kafka');
  const kafkaNodes = integerFromEnv('--nodes (KAFKA_NODES)', values.nodes ?? process.env.KAFKA_NODES, 1, 1, 9);
  const kafkaPort = integerFromEnv('KAFKA_PORT', process.env.KAFKA_PORT, 9092, 1, 65535);
  const controllerPort = integerFromEnv('KAFKA_CONTROLLER_PORT', process.env.KAFKA_CONTROLLER_PORT, kafkaNodes === 1 ? 9093 : kafkaPort + kafkaNodes, 1, 65535);
  const clusterDir = `${dataDir}-cluster`;
  switch (command) {
    case 'start': {
      if (kafkaNodes > 1) {
        const running = runningBrokerPid(nodeDir(clusterDir, 1));
        if (running !== undefined) {
          console.log(`a Kafka cluster already runs from ${clusterDir} (node 1: pid ${running})`);
          return;
        }
        const cluster = await startCluster({ dataDir: clusterDir, nodes: kafkaNodes, ports: kafkaNodePorts({ kafkaPort, controllerPort, kafkaNodes }) });
        console.log(`Kafka ${KAFKA_VERSION}: ${kafkaNodes}-node cluster ${cluster.brokers} is up (pids ${cluster.nodes.map((node) => node.pid).join(', ')}), data and logs in ${clusterDir}/node-*`);
        return;
      }
      const pid = runningBrokerPid(dataDir);
      if (pid !== undefined) {
        console.log(`Kafka already running (pid ${pid}) on 127.0.0.1:${kafkaPort}, data in ${dataDir}`);
        return;
      }
      const broker = await startBroker({ dataDir, port: kafkaPort, controllerPort });
      console.log(`Kafka ${KAFKA_VERSION} ${broker.brokers} is up (pid ${broker.pid}), data in ${dataDir}, log in ${dataDir}/broker.log`);
      return;
    }
    case 'stop': {
      // Stops whatever runs from the data dir: the single broker and the cluster alike.
      const stopped = await stopBrokerInDir(dataDir);
      const clusterStopped = await stopClusterInDir(clusterDir);
      if (stopped) console.log(`Kafka stopped (data kept in ${dataDir})`);
      if (clusterStopped) console.log(`Kafka cluster stopped (data kept in ${clusterDir})`);
      if (!stopped && !clusterStopped) console.log(`no Kafka broker running from ${dataDir} or ${clusterDir}`);
      return;
    }
    case 'fetch': {
      console.log(`Kafka ${KAFKA_VERSION} broker jars in ${await ensureBrokerJars()}`);
      return;
    }
    default:
      throw new Error('usage: kafka.ts start|stop|fetch [--nodes N]');
  }
}

main().catch((error: unknown) => {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
