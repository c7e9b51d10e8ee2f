export { buildServer, type ServerOptions } from './app.js';
export { MAX_TEXT } from './routes/conversations.js';
export { validateText, validatePostback } from './validate-text.js';
export { errorBody } from './errors.js';
