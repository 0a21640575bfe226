// A head's strongest role, the rule the model view's badges and the exported grid share.
import type { HeadRole, HeadRoleScores } from './protocol';

/** The head's strongest weight-share role (entropy is in nats, not a share: never the strongest). */
export function strongestRole(scores: HeadRoleScores): { role: HeadRole; value: number } {
  let best: { role: HeadRole; value: number } = { role: 'previousToken', value: scores.previousToken };
  for (const role of ['firstToken', 'sameToken', 'induction'] as const) {
    const value = scores[role];
    if (value !== null && value > best.value) best = { role, value };
  }
  return best;
}
