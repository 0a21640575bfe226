// Head roles and thumbnails read every weight: seconds at 4096 tokens. A run held in the extension
// host (InProcessAttention) computes them in pieces, yielding in between, so the panel's other
// requests are answered meanwhile; the answers must equal headRolesOf's and poolThumbnails', and a
// released run stops.
import * as assert from 'node:assert/strict';
import { headRolesOf } from '../../src/core/analysis/headRoles';
import { InProcessAttention } from '../../src/core/heldAttention';
import { poolThumbnails } from '../../src/core/thumbnails';
import type { AttentionGroup } from '../../src/core/types';
import { randomCausalAttention } from '../support/randomAttention';

/** Past 1024 × 1024 cells per map the scoring yields after each head. */
const T = 1025;
const dims: [number, number, number, number] = [1, 3, T, T];
const ids = Array.from({ length: T }, (_, t) => (t * 7) % 61); // repeats, so same-token and induction are scored

function heldRun(): InProcessAttention {
  const group = { name: 'self', label: 'Self-attention', kind: 'self', queries: 'source', keys: 'source', dims, causal: true, attention: randomCausalAttention(dims, 21) } as unknown as AttentionGroup;
  const tokens = ids.map((id, t) => ({ id, text: `t${t}`, start: t, end: t + 1 }));
  return new InProcessAttention({ groups: [group], tokens } as never);
}

describe('head roles and thumbnails of a large run held in this process', function () {
  this.timeout(60000);

  it('answer a head asked for meanwhile first, and equal headRolesOf', async () => {
    const held = heldRun();
    const [group] = await held.materialize();
    const order: string[] = [];
    const roles = held.query({ kind: 'roles', group: 0 }).then((answer) => {
      order.push('roles');
      return answer;
    });
    const head = held.query({ kind: 'head', group: 0, layer: 0, head: 2 }).then(() => order.push('head'));
    const [answer] = await Promise.all([roles, head]);
    assert.deepEqual(order, ['head', 'roles'], 'the head was answered while the roles were being scored');
    assert.deepEqual(answer?.roles, headRolesOf(group.attention, [1, 3, T], ids));
  });

  it('thumbnails too: a head asked for meanwhile comes first, and they equal poolThumbnails', async () => {
    const held = heldRun();
    const [group] = await held.materialize();
    const order: string[] = [];
    const thumbnails = held.query({ kind: 'thumbnails', group: 0, size: 32 }).then((answer) => {
      order.push('thumbnails');
      return answer;
    });
    const head = held.query({ kind: 'head', group: 0, layer: 0, head: 1 }).then(() => order.push('head'));
    const [answer] = await Promise.all([thumbnails, head]);
    assert.deepEqual(order, ['head', 'thumbnails']);
    const expected = poolThumbnails(group.attention, dims, 32, true);
    assert.deepEqual([answer?.rows, answer?.columns], [expected.rows, expected.columns]);
    assert.deepEqual(answer?.data, expected.data);
  });

  it('stop, answering nothing, once the run is released', async () => {
    const held = heldRun();
    const roles = held.query({ kind: 'roles', group: 0 });
    const thumbnails = held.query({ kind: 'thumbnails', group: 0, size: 32 });
    held.release();
    assert.equal(await roles, undefined);
    assert.equal(await thumbnails, undefined);
  });
});
