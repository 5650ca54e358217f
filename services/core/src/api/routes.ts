// Chainlog's two HTTP APIs, by route: the one place their paths are written. The services register these
// routes, their OpenAPI documents name these paths, and clients (the CLI, ingest's statusUrl) build request
// paths with the functions below; none of them writes a path itself.

/** Ingest, the front door (services/ingest/openapi.json). */
export const INGEST_ROUTES = {
  /** POST one transaction or a batch. */
  transactions: '/v1/transactions',
  openapi: '/openapi.json',
} as const;

/** The auditor's query API (services/auditor/openapi.json). Express route patterns (`:name`). */
export const AUDITOR_ROUTES = {
  head: '/v1/chain/head',
  blocks: '/v1/blocks',
  block: '/v1/blocks/:index',
  blockHeader: '/v1/blocks/:index/header',
  live: '/v1/chain/live',
  events: '/v1/chain/events',
  transaction: '/v1/transactions/:id',
  account: '/v1/accounts/:id',
  audit: '/v1/audit',
  openapi: '/openapi.json',
} as const;

/** A page of a paged list: `from` defaults on the server (0 upwards, the newest downwards). */
export interface PageQuery {
  readonly from?: number | undefined;
  readonly limit?: number | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
}

/** Request paths of the auditor's API, parameters encoded (absolute: a client under a path prefix drops the `/`). */
export const auditorPaths = {
  head: (): string => AUDITOR_ROUTES.head,
  blocks: (page: PageQuery = {}): string => `${AUDITOR_ROUTES.blocks}${pageQuery(page)}`,
  block: (index: number): string => AUDITOR_ROUTES.block.replace(':index', String(index)),
  blockHeader: (index: number): string => AUDITOR_ROUTES.blockHeader.replace(':index', String(index)),
  live: (): string => AUDITOR_ROUTES.live,
  events: (): string => AUDITOR_ROUTES.events,
  transaction: (id: string): string => AUDITOR_ROUTES.transaction.replace(':id', encodeURIComponent(id)),
  account: (id: string, page: PageQuery = {}): string => `${AUDITOR_ROUTES.account.replace(':id', encodeURIComponent(id))}${pageQuery(page)}`,
  audit: (limit?: number): string => `${AUDITOR_ROUTES.audit}${query({ limit })}`,
};

function pageQuery({ from, limit, order }: PageQuery): string {
  return query({ from, limit, order });
}

/** `?a=1&b=2` of the parameters that are set, in a fixed order; '' when none is. */
function query(parameters: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(parameters).filter((pair): pair is [string, string | number] => pair[1] !== undefined);
  return pairs.length === 0 ? '' : `?${pairs.map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`).join('&')}`;
}

/** An express route pattern as an OpenAPI path: `/v1/blocks/:index` → `/v1/blocks/{index}`. */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}
