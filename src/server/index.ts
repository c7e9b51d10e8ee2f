export { buildServer, type ServerOptions } from './app.js';
export { MAX_TEXT } from '../channels/web/routes.js';
