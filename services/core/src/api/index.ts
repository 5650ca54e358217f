/** `@chainlog/core/api`: the routes of Chainlog's HTTP APIs, shared by the services, their OpenAPI documents and clients. */
export { AUDITOR_ROUTES, auditorPaths, INGEST_ROUTES, openApiPath } from './routes.js';
