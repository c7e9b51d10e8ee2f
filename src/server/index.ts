export { buildServer, type ServerOptions } from './app.js';
export { MAX_TEXT, validateText, validatePostback } from './validate-text.js';
export { errorBody } from './errors.js';
