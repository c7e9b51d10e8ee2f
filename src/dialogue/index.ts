export { step, initialState, migrate, statusText } from './engine.js';
export { tidy as typedText } from './commands.js';
export { parseDate, dueDate, isoDay } from './dates.js';
export { checkIdCard, checkUscc, checkMobile, checkYesNo, checkSlot, displayValue, type SlotValue, type SlotResult } from './slots.js';
export { holds, checklistOf, itemsOf, routeOf, timeLimitOf } from './flow-logic.js';
export * from './types.js';
