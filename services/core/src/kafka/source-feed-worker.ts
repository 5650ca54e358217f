// The worker thread of a SourceReader's feed (source-feed.ts): consumes the transactions topic with its own
// kafkajs client, packs each fetched batch and transfers it to the reader's thread. It decides nothing:
// pausing, buffering and every coverage verdict stay with the reader on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { THREAD_HEAP_REPORT_MS, threadHeapReport } from '../metrics/thread-heaps.js';
import { createKafka } from './client.js';
import { InFlightWindow } from './in-flight-window.js';
import { chunkBytes, chunkTransferList, packRecords } from './record-chunk.js';
import { IN_FLIGHT_BUDGET_BYTES, readerOptions, type SourceFeedCommand, type SourceFeedEvent, type SourceFeedWorkerData } from './source-feed.js';
import { TopicReader } from './topic-reader.js';

const port = parentPort;
if (port === null) throw new Error('source-feed-worker runs as a worker thread');
const data = workerData as SourceFeedWorkerData;
const post = (event: SourceFeedEvent, transfer?: ArrayBuffer[]): void => port.postMessage(event, transfer);

// Lines go to the reader's logger (its service name, level and destination), not to this thread's stdout.
const logger = pino(
  { level: data.logLevel, base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } },
  { write: (line: string) => post({ kind: 'log', line }) },
);

const inFlight = new InFlightWindow(IN_FLIGHT_BUDGET_BYTES);

const reader = new TopicReader({
  ...readerOptions({ ...data, startOffsets: new Map(data.startOffsets) }),
  kafka: createKafka(data.settings, logger, data.retries),
  logger,
  onBatch: (partition, highWatermark) => post({ kind: 'end', partition, highWatermark }),
  onMessages: (partition, messages, first) => {
    const chunk = packRecords(messages, first);
    inFlight.sent(chunkBytes(chunk));
    post({ kind: 'chunk', partition, chunk }, chunkTransferList(chunk));
    // The next fetch waits while the reader's thread has not taken what is on its way (in-flight-window.ts).
    return inFlight.room();
  },
  // kafkajs gave up on the consumer: the reader's thread must know, or its blocks would wait for ever.
  onFailure: (error) => post({ kind: 'failed', message: error.message }),
});

// This isolate's heap is not in the reader's process.memoryUsage(): reported so that it can be seen (metrics).
const heapTimer = setInterval(() => post({ kind: 'heap', heap: threadHeapReport() }), THREAD_HEAP_REPORT_MS);
heapTimer.unref();
post({ kind: 'heap', heap: threadHeapReport() });

port.on('message', (command: SourceFeedCommand) => {
  switch (command.kind) {
    case 'pause':
      reader.pause(command.partition);
      break;
    case 'resume':
      reader.resume(command.partition);
      break;
    case 'taken':
      inFlight.acknowledged(command.bytes);
      break;
    case 'skip':
      reader.skipTo(command.partition, command.offset);
      break;
    case 'stop':
      clearInterval(heapTimer);
      inFlight.close();
      void reader
        .stop()
        .catch((error: unknown) => logger.warn({ err: error }, 'transactions source reader did not stop cleanly'))
        .finally(() => {
          post({ kind: 'stopped' });
          port.close();
        });
      break;
  }
});

try {
  await reader.start();
  post({ kind: 'started' });
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  await reader.stop().catch(() => undefined);
  port.close();
}
