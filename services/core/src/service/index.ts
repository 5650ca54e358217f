/** `@chainlog/core/service`: running a service process (main.ts calls runService, and nothing else). */
export { runService, type ServiceContext, type ServiceDefinition, type ServiceParts } from './run-service.js';
export { onShutdownSignal } from './shutdown.js';
