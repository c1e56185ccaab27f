/**
 * The one module of Hermod that imports values from @kubernetes/client-node (`hermod check`
 * aside, its own entry, which may use the typed APIs). Everything comes from deep paths into the
 * package's dist/ (it has no "exports" map, so they resolve), never from its barrel: the barrel
 * loads every generated API class and model (2,742 files), and esbuild keeps them all, since it
 * cannot tell that a model class has no side effects. With these paths, and the build's slim
 * gen index for config.js (scripts/build.ts), `hermod run`'s bundle holds the kubeconfig loader
 * and the HTTP stack only (docs/adr/0007, "No typed API in `hermod run`").
 *
 * Types may still be imported from the barrel with `import type` anywhere: they cost nothing.
 */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
export { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
