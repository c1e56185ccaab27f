/**
 * Single Kubernetes objects as plain JSON: GET, POST, PUT, PATCH and DELETE of one object, and a
 * GET whose answer is text (pods/log). Hermod's own small client in place of client-node's
 * generated typed APIs, so `hermod run` loads none of them (docs/adr/0007, "No typed API in
 * `hermod run`"): the same KubeConfig and pooled connection as the LIST/WATCH client
 * (./client.ts), answers parsed with JSON.parse, no model deserialisation (dates stay strings).
 *
 * Every non-success answer rejects with a KubeApiError carrying the HTTP status and the
 * `Status` reason and message (404 and 409 are the callers' `absent` and `conflict`); a request
 * that gets no answer rejects with the transport's error, as before.
 *
 * Paths are written at the call site as literals (`/api/v1/namespaces/${namespace}/configmaps/${name}`):
 * test/unit/packaging.test.ts reads them there to check the RBAC grants.
 */
import { KubeApiError, KubeError } from './errors.js';
import { apiError, sendKubeRequest, type KubeRequest, type QueryParams } from './client.js';
import type { KubeConfig } from './clientNode.js';

/** A JSON merge patch, a strategic merge patch or a JSON patch. */
export type PatchType = 'application/merge-patch+json' | 'application/strategic-merge-patch+json' | 'application/json-patch+json';

export interface RequestOptions {
  params?: QueryParams;
  signal?: AbortSignal;
}

/** The status code of a KubeApiError (an answer of the API server), else undefined (no answer). */
export const statusOf = (err: unknown): number | undefined => (err instanceof KubeApiError ? err.statusCode : undefined);

export class KubeObjectClient {
  constructor(private readonly kubeConfig: KubeConfig) {}

  /** GET one object. */
  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.json<T>({ method: 'GET', path, ...options });
  }

  /** POST a new object to a collection's path; the object as created. */
  create<T>(path: string, body: T, options: RequestOptions = {}): Promise<T> {
    return this.json<T>({ method: 'POST', path, body, ...options });
  }

  /** PUT an object (with metadata.resourceVersion: only if unchanged since); the object as written. */
  replace<T>(path: string, body: T, options: RequestOptions = {}): Promise<T> {
    return this.json<T>({ method: 'PUT', path, body, ...options });
  }

  /** PATCH an object; the object as patched. */
  patch<T>(path: string, body: unknown, type: PatchType = 'application/merge-patch+json', options: RequestOptions = {}): Promise<T> {
    return this.json<T>({ method: 'PATCH', path, body, contentType: type, ...options });
  }

  /** DELETE an object; the API server's answer (the object, or a Status). */
  delete(path: string, options: RequestOptions = {}): Promise<unknown> {
    return this.json<unknown>({ method: 'DELETE', path, ...options });
  }

  /** GET an answer that is text, not JSON (pods/log). */
  async getText(path: string, options: RequestOptions = {}): Promise<string> {
    const res = await sendKubeRequest(this.kubeConfig, { method: 'GET', path, accept: '*/*', ...options });
    if (res.statusCode < 200 || res.statusCode > 299) throw await apiError(res, `GET ${path}`);
    return res.body.text();
  }

  private async json<T>(request: KubeRequest): Promise<T> {
    const res = await sendKubeRequest(this.kubeConfig, request);
    if (res.statusCode < 200 || res.statusCode > 299) throw await apiError(res, `${request.method} ${request.path}`);
    const text = await res.body.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeError(`${request.method} ${request.path}: response is not JSON`);
    }
  }
}
