export { createConversationService, type ConversationService, type ApiState, type UserInput, type PublicApplication } from './service.js';
