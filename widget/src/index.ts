import type { Lang } from './types.js';
import { ChatWidget, type WidgetOptions } from './widget.js';

/**
 * The embed: `<script src="https://assistant.example/widget.js" data-api="https://assistant.example" data-lang="zh" defer>`.
 * data-api defaults to the script's own origin; data-lang `zh` | `en`; data-title and data-hotline label the panel;
 * data-transport `auto` | `websocket` | `poll`; data-open opens the panel at load.
 */
function optionsFrom(script: HTMLScriptElement | null): WidgetOptions {
  const d = script?.dataset ?? {};
  const own = script?.src ? new URL(script.src, location.href).origin : location.origin;
  const api = d.api?.trim() ? new URL(d.api.trim(), location.href).toString() : own;
  const lang: Lang = d.lang === 'en' ? 'en' : 'zh';
  const transport = d.transport === 'poll' || d.transport === 'websocket' ? d.transport : 'auto';
  return { api, lang, title: d.title, hotline: d.hotline, transport, open: d.open === 'true' || d.open === '' };
}

// Read while the script runs: currentScript is null in callbacks.
const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[src*="widget.js"]');

function boot(): void {
  const w = window as unknown as { waterAssistant?: ChatWidget };
  if (w.waterAssistant) return;
  const widget = new ChatWidget(optionsFrom(script));
  widget.mount();
  w.waterAssistant = widget;
}

if (document.body) boot();
else document.addEventListener('DOMContentLoaded', boot, { once: true });
