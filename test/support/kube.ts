// kubectl and helm against the local cluster of `npm run cluster:up` (scripts/cluster/cluster.sh).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run } from './chaos.js';

const cache = process.env.CHAINLOG_CACHE ?? join(homedir(), '.cache', 'chainlog');
const clusterDir = process.env.CHAINLOG_CLUSTER_DIR ?? join(cache, 'cluster');
export const KUBECONFIG = process.env.KUBECONFIG ?? join(clusterDir, 'kubeconfig');
const KUBECTL = join(cache, 'kube', 'bin', 'kubectl');
const HELM = join(cache, 'bin', 'helm');
const env = { ...process.env, KUBECONFIG, HELM_CACHE_HOME: join(clusterDir, 'helm-cache'), HELM_CONFIG_HOME: join(clusterDir, 'helm-config') };

async function ok(command: string, args: string[], timeoutMs: number, input?: string): Promise<string> {
  const result = await run(command, args, timeoutMs, input === undefined ? env : { ...env, CHAINLOG_STDIN: input });
  if (result.code !== 0) throw new Error(`${command.split('/').pop()} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}${result.stdout.slice(-2000)}`);
  return result.stdout;
}

export function kubectl(args: string[], timeoutMs = 120_000): Promise<string> {
  return ok(KUBECTL, args, timeoutMs);
}

export async function kubectlJson<T>(args: string[], timeoutMs = 120_000): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], timeoutMs)) as T;
}

/** kubectl apply of a manifest given as text (through a shell, since run() has no stdin). */
export function kubectlApply(manifest: string, timeoutMs = 120_000): Promise<string> {
  return ok('bash', ['-c', `printf '%s' "$CHAINLOG_STDIN" | '${KUBECTL}' apply -f -`], timeoutMs, manifest);
}

export function helm(args: string[], timeoutMs = 900_000): Promise<string> {
  return ok(HELM, args, timeoutMs);
}

/** The same, without failing: for the scenarios that report an exit code. */
export function helmResult(args: string[], timeoutMs = 900_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(HELM, args, timeoutMs, env);
}

export interface Pod {
  metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status: { podIP?: string; phase?: string; containerStatuses?: { restartCount: number; ready: boolean }[] };
}
