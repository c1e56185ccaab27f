/**
 * More fake Nodes for a test that needs several (a DaemonSet rolling out node by node, issue 11),
 * opt-in: every local cluster starts with one (FAKE_NODE), and the other test files keep it so.
 * KWOK manages every Node (it runs with --manage-all-nodes) and makes these Ready like the first.
 * `remove()` deletes them again: call it once the workloads that ran on them are gone.
 */
import { fakeNodeManifest } from './cluster.js';
import type { Harness } from './hermod-harness.js';

interface NodeStatus {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

export interface FakeNodes {
  names: string[];
  /** Deletes the Nodes and waits until the API server no longer has them. */
  remove(): Promise<void>;
}

/** Creates `names` as fake Nodes and waits until KWOK has made each Ready. */
export async function addFakeNodes(h: Harness, names: readonly string[]): Promise<FakeNodes> {
  for (const name of names) await h.api('POST', '/api/v1/nodes', fakeNodeManifest(name));
  for (const name of names) {
    await h.waitFor(`Node ${name} Ready (kwok)`, async () => {
      const node = await h.api<NodeStatus>('GET', `/api/v1/nodes/${name}`);
      return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    });
  }
  return {
    names: [...names],
    async remove() {
      for (const name of names) {
        const res = await h.cluster.request('DELETE', `/api/v1/nodes/${name}`);
        if (res.status !== 200 && res.status !== 404) throw new Error(`DELETE Node ${name}: HTTP ${res.status}`);
      }
      await h.waitFor('the added Nodes gone', async () => {
        const statuses = await Promise.all(names.map(async (name) => (await h.cluster.request('GET', `/api/v1/nodes/${name}`)).status));
        return statuses.every((s) => s === 404);
      });
    },
  };
}
