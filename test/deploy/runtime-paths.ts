/**
 * What `node dist/main.js` reads at run time besides package.json and node_modules: the runtime test
 * (build.test.ts) runs the server with only these, and the Dockerfile's runtime stage must COPY each (compose.test.ts).
 */
export const RUNTIME_PATHS = ['dist', 'knowledge', 'flows', 'widget/demo', 'widget/dist', 'agent-console/index.html', 'agent-console/console.css', 'agent-console/dist'] as const;
