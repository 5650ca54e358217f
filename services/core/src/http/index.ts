/** `@chainlog/core/http`: the express scaffold every service's HTTP API is built on. */
export { bearerAuth, readAuthTokens } from './auth.js';
export { errorBody, HttpError, type ErrorBody } from './errors.js';
export { allowedMethods, closeServer, createHttpApp, DEFAULT_REQUEST_TIMEOUTS, listen, type HttpServiceOptions, type Readiness, type RequestTimeouts } from './server.js';
export { objectSchema, type JsonSchema, type ObjectSchemaOptions } from './object-schema.js';
