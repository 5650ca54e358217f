/** `@chainlog/core/http`: the express scaffold every service's HTTP API is built on. */
export { errorBody, HttpError, type ErrorBody } from './errors.js';
export { closeServer, createHttpApp, listen, type HttpServiceOptions, type Readiness } from './server.js';
