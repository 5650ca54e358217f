// npm run kafka:start / kafka:stop: the local development broker (kafka:fetch only downloads the jars).
// Configure with KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093) and KAFKA_DATA_DIR (.data/kafka).
import { resolve } from 'node:path';
import { ensureBrokerJars, KAFKA_VERSION, runningBrokerPid, startBroker, stopBrokerInDir } from './lib/kafka-broker.js';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  }
  return port;
}

async function main(command: string | undefined): Promise<void> {
  const dataDir = resolve(process.env.KAFKA_DATA_DIR ?? '.data/kafka');
  const port = portFromEnv('KAFKA_PORT', 9092);
  switch (command) {
    case 'start': {
      const pid = runningBrokerPid(dataDir);
      if (pid !== undefined) {
        console.log(`Kafka already running (pid ${pid}) on 127.0.0.1:${port}, data in ${dataDir}`);
        return;
      }
      const controllerPort = portFromEnv('KAFKA_CONTROLLER_PORT', 9093);
      const broker = await startBroker({ dataDir, port, controllerPort });
      console.log(`Kafka ${broker.brokers} is up (pid ${broker.pid}), data in ${dataDir}, log in ${dataDir}/broker.log`);
      return;
    }
    case 'stop': {
      const stopped = await stopBrokerInDir(dataDir);
      console.log(stopped ? `Kafka stopped (data kept in ${dataDir})` : `no Kafka broker running from ${dataDir}`);
      return;
    }
    case 'fetch': {
      console.log(`Kafka ${KAFKA_VERSION} broker jars in ${await ensureBrokerJars()}`);
      return;
    }
    default:
      throw new Error('usage: kafka.ts start|stop|fetch');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
