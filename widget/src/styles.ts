/** The widget's styles, scoped to its shadow root; the host page's CSS does not reach in, and ours does not leak out. */
export const CSS = `
:host { all: initial; }
.root { --blue: #0b5cad; --blue-dark: #08427d; --ink: #1b2430; --muted: #5a6675; --line: #d9e2ec; --bg: #f5f8fb; --focus: #ffbf47;
  --fs: 15px; font: var(--fs)/1.55 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color: var(--ink); }
.root.large { --fs: 19px; }
* { box-sizing: border-box; }
button, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }

.bubble { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: flex; align-items: center; gap: 8px; padding: 12px 18px;
  border: 0; border-radius: 28px; background: var(--blue); color: #fff; font-weight: 600; box-shadow: 0 6px 20px rgba(8,66,125,.35); }
.bubble:hover { background: var(--blue-dark); }
.bubble .icon { font-size: 1.2em; line-height: 1; }
.bubble .unread { min-width: 1.4em; padding: 0 .35em; border-radius: .7em; background: #d93025; font-size: .8em; text-align: center; }

.panel { position: fixed; right: 20px; bottom: 20px; z-index: 2147483001; display: flex; flex-direction: column; width: 390px; height: min(640px, calc(100vh - 40px));
  background: #fff; border-radius: 14px; overflow: hidden; box-shadow: 0 12px 40px rgba(15,35,60,.28); }
.root.large .panel { width: 460px; }
@media (max-width: 520px) {
  .panel, .root.large .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
  .bubble { right: 12px; bottom: 12px; }
}

header.bar { display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: var(--blue); color: #fff; }
header.bar .titles { flex: 1; min-width: 0; }
header.bar h2 { margin: 0; font-size: 1.05em; line-height: 1.3; }
header.bar .sub { margin: 0; font-size: .8em; opacity: .9; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
header.bar .sub a { color: #fff; }
.tools { display: flex; gap: 4px; flex-shrink: 0; }
.tool { min-width: 36px; min-height: 36px; padding: 4px 8px; border: 1px solid rgba(255,255,255,.55); border-radius: 8px; background: transparent; color: #fff; font-size: .85em; }
.tool[aria-pressed="true"] { background: #fff; color: var(--blue-dark); }
@media (hover: hover) {
  .tool:hover { background: rgba(255,255,255,.15); }
  .tool[aria-pressed="true"]:hover { background: #eef4fb; }
}

.banner { padding: 6px 12px; font-size: .85em; background: #fff4ce; color: #5c4400; border-bottom: 1px solid #f0dc9a; }
.banner.ok { background: #e6f4ea; color: #0d5223; border-color: #b7dfc3; }

.log { flex: 1; overflow-y: auto; padding: 12px; background: var(--bg); display: flex; flex-direction: column; gap: 10px; }
.msg { max-width: 88%; display: flex; flex-direction: column; gap: 4px; }
.msg .who { font-size: .78em; color: var(--muted); }
.msg .body { padding: 9px 12px; border-radius: 12px; background: #fff; border: 1px solid var(--line); overflow-wrap: anywhere; }
.msg .body p { margin: 0; }
.msg .body p + p, .msg .body p + ol, .msg .body ol + p { margin-top: .5em; }
.msg .body ol { margin: .25em 0; padding-left: 1.5em; }
.msg time { font-size: .72em; color: var(--muted); }
.from-user { align-self: flex-end; align-items: flex-end; }
.from-user .body { background: var(--blue); border-color: var(--blue); color: #fff; white-space: pre-wrap; }
.from-user.pending .body { opacity: .7; }
.from-user.failed .body { background: #fff; color: #a50e0e; border-color: #d93025; }
.from-user .state { font-size: .75em; color: var(--muted); background: none; border: 0; padding: 0; }
.from-user.failed .state { color: #a50e0e; text-decoration: underline; }
.from-agent .body { border-color: #9cc3a8; background: #f1faf3; }
.from-agent .who { color: #0d5223; font-weight: 600; }
.from-system { align-self: center; max-width: 95%; }
.from-system .body { background: transparent; border: 0; color: var(--muted); font-size: .88em; text-align: center; padding: 2px 8px; }
.notice { align-self: center; max-width: 95%; font-size: .85em; color: var(--muted); text-align: center; }
.notice button { margin-top: 4px; }

.quick { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 2px; }
.quick button, .notice button, .retry { padding: 6px 12px; border: 1px solid var(--blue); border-radius: 16px; background: #fff; color: var(--blue-dark); }
.quick button:hover, .notice button:hover { background: #e8f1fb; }

.body > .card:first-child { margin: 0 0 .6em; }
.card { margin-top: .6em; border: 1px solid var(--line); border-radius: 10px; background: #fff; overflow: hidden; }
.card-title { margin: 0; padding: 7px 12px; font-size: .95em; background: #eaf2fa; color: var(--blue-dark); }
.card .rows { margin: 0; padding: 6px 12px 8px; }
.card .row { display: grid; grid-template-columns: minmax(4.5em, auto) 1fr; gap: 8px; padding: 3px 0; border-bottom: 1px dashed #e5ebf1; }
.card .row:last-child { border-bottom: 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; }
.card dd p { margin: 0; }
.checklist { list-style: none; margin: 0; padding: 6px 12px 8px; }
.checklist li { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px; padding: 4px 0; border-bottom: 1px dashed #e5ebf1; }
.checklist li:last-child { border-bottom: 0; }
.badge { flex-shrink: 0; padding: 0 6px; border-radius: 4px; font-size: .78em; font-weight: 600; }
.badge-required { background: #fde7e7; color: #a50e0e; }
.badge-optional { background: #e7f0fd; color: #0b4f9c; }
.material { flex: 1; min-width: 8em; }
.note { font-size: .78em; color: var(--muted); }
.note.ok { color: #0d5223; }
.card-application .app-head { padding: 8px 12px; border-bottom: 1px solid var(--line); }
.app-ref .label { display: block; font-size: .78em; color: var(--muted); }
.app-ref .ref { font-size: 1.25em; letter-spacing: .5px; color: var(--blue-dark); font-variant-numeric: tabular-nums; }
.app-meta { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: .85em; }
.card-handoff .card-title { background: #e6f4ea; color: #0d5223; }
details.text { font-size: .85em; color: var(--muted); }
details.text summary { cursor: pointer; }
details.text .plain { margin-top: 4px; color: var(--ink); }

.typing { display: flex; align-items: center; gap: 6px; padding: 0 14px 6px; background: var(--bg); color: var(--muted); font-size: .82em; }
.dots { display: inline-flex; gap: 3px; }
.dots i { width: 6px; height: 6px; border-radius: 50%; background: var(--muted); animation: blink 1.2s infinite ease-in-out; }
.dots i:nth-child(2) { animation-delay: .2s; } .dots i:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .dots i { animation: none; opacity: .6; } }

form.composer { display: flex; align-items: flex-end; gap: 6px; padding: 8px; border-top: 1px solid var(--line); background: #fff; }
.composer textarea { flex: 1; min-width: 0; min-height: 40px; font-size: max(16px, 1em); max-height: 8em; padding: 8px 10px; border: 1px solid #aab7c4; border-radius: 10px; resize: none; }
.composer .handoff { flex-shrink: 0; min-height: 40px; padding: 6px 10px; border: 1px solid #0d5223; border-radius: 10px; background: #f1faf3; color: #0d5223; font-weight: 600; }
.composer .send { flex-shrink: 0; min-height: 40px; padding: 6px 14px; border: 0; border-radius: 10px; background: var(--blue); color: #fff; font-weight: 600; }
.composer .send:disabled { opacity: .5; cursor: default; }
@media (max-width: 520px) {
  .msg { max-width: 96%; }
  .from-user { max-width: 85%; }
}
`;
