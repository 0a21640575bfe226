// Head roles, live: what every head of one attention group does on the current text. The scores use
// the same per-head formulas as the model card's statistics (headStats.ts), so a head's
// previous-token score here and on the card differ only because the text differs.
import { InputError } from '../errors';
import { nextTurn, YIELD_ABOVE_CELLS } from '../nextTurn';
import type { AttentionResult } from '../types';
import { firstTokenScore, meanRowEntropy, meanWeightOnKeys, previousTokenScore, repeatRows, rowEntropySum } from './headStats';

export interface HeadRoleScores {
  layer: number;
  head: number;
  /** Mean weight from token t to t-1, over t = 1..T-1. */
  previousToken: number;
  /** Mean weight on the first token, over t = 1..T-1. */
  firstToken: number;
  /** Mean weight on earlier occurrences of the same token id, over the tokens that occurred before; null when no token repeats. */
  sameToken: number | null;
  /** Mean weight on the tokens that followed earlier occurrences of the current token, over the same rows; null when no token repeats. */
  induction: number | null;
  /** Mean row entropy in nats, over t = 1..T-1 (a row uniform over n tokens: ln n). */
  entropy: number;
}

export type HeadRole = 'previousToken' | 'firstToken' | 'sameToken' | 'induction' | 'entropy';

/** One line per score, for the panel and the CLI. */
export const ROLE_EXPLANATIONS: Readonly<Record<HeadRole, string>> = {
  previousToken: 'Previous token: mean weight each token puts on the token just before it (1 = always looks one back).',
  firstToken: 'First token (sink): mean weight on the first token, where heads park attention they do not need.',
  sameToken: 'Same token: mean weight a repeated token puts on its earlier occurrences (only over tokens that repeat).',
  induction: 'Induction: mean weight a repeated token puts on the token that followed its earlier occurrence ("A B … A → B"); only where the text repeats.',
  entropy: 'Entropy: how spread out each row is, in nats (0 = one token; ln n = uniform over n tokens).',
};

/**
 * [L, H, T, T] of one self-attention group -> [L*H] scores, index l*H + h. Token ids come from the
 * group's sequence (result.tokens, or result.target.tokens for the decoder group). Needs T >= 2;
 * cross-attention (queries and keys from different sequences) has no such roles and is refused.
 */
export function headRoles(result: AttentionResult, group = 0): HeadRoleScores[] {
  const attentionGroup = result.groups[group];
  if (!attentionGroup) throw new InputError(`There is no attention group ${group} (this run has ${result.groups.length}).`);
  if (attentionGroup.kind === 'cross' || attentionGroup.queries !== attentionGroup.keys) {
    throw new InputError(`Head roles read self-attention; group ${group} (${attentionGroup.label}) is cross-attention.`);
  }
  const [L, H, T] = attentionGroup.dims;
  if (T < 2) throw new InputError('Head roles need at least two tokens.');
  const tokens = attentionGroup.queries === 'target' ? result.target?.tokens : result.tokens;
  if (!tokens || tokens.length !== T) throw new InputError(`Group ${group} has ${T} tokens but its sequence has ${tokens?.length ?? 0}.`);
  return headRolesOf(attentionGroup.attention, [L, H, T], tokens.map((token) => token.id));
}

/**
 * The same scores from the weights alone: [L, H, T, T] self-attention and the T token ids of its
 * sequence (the host's replies to the panel use this; headRoles checks the group first). Needs T >= 2.
 */
export function headRolesOf(attention: Float32Array, dims: readonly [number, number, number], tokenIds: readonly number[]): HeadRoleScores[] {
  const scorer = headScorer(attention, dims, tokenIds);
  const [L, H] = dims;
  const roles: HeadRoleScores[] = [];
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) roles.push(scorer(l, h));
  return roles;
}

/** About this many weights are scored between two yields (10–20 ms). */
const CELLS_PER_PIECE = 1 << 20;


/**
 * headRolesOf for a process that answers other requests meanwhile (the extension host holding a
 * built-in run): for maps larger than 1024 × 1024 it scores the rows' entropies in pieces of about
 * 1 M weights and yields to the event loop between pieces, so a head switch waits 10–20 ms, not
 * for all the scores (seconds at 4096 tokens). The scores equal headRolesOf's to the bit
 * (rowEntropySum continues each piece's sum). stillWanted: checked after each yield;
 * undefined when it says no (the run was released).
 */
export async function headRolesOfYielding(attention: Float32Array, dims: readonly [number, number, number], tokenIds: readonly number[], stillWanted: () => boolean): Promise<HeadRoleScores[] | undefined> {
  const [L, H, T] = dims;
  if (T * T <= YIELD_ABOVE_CELLS) return headRolesOf(attention, dims, tokenIds);
  const scorer = headScorer(attention, dims, tokenIds);
  const rowsPerPiece = Math.max(1, Math.floor(CELLS_PER_PIECE / T));
  const roles: HeadRoleScores[] = [];
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const offset = (l * H + h) * T * T; // [T, T] block of head (l, h)
      let entropy = 0;
      for (let t0 = 1; t0 < T; t0 += rowsPerPiece) {
        entropy = rowEntropySum(attention, offset, T, t0, Math.min(T, t0 + rowsPerPiece), entropy);
        await nextTurn();
        if (!stillWanted()) return undefined;
      }
      roles.push({ ...scorer(l, h, false), entropy: entropy / (T - 1) });
    }
  }
  return roles;
}

/** The scores of head (l, h) of [L, H, T, T] self-attention (the entropy only when asked: it reads every weight); checks T and the ids once. */
function headScorer(attention: Float32Array, dims: readonly [number, number, number], tokenIds: readonly number[]): (l: number, h: number, withEntropy?: boolean) => HeadRoleScores {
  const [, H, T] = dims;
  if (T < 2) throw new InputError('Head roles need at least two tokens.');
  if (tokenIds.length !== T) throw new InputError(`The attention has ${T} tokens but ${tokenIds.length} token ids came with it.`);
  const { same, induction } = repeatRows(tokenIds);
  return (l, h, withEntropy = true) => {
    const offset = (l * H + h) * T * T; // [T, T] block of head (l, h)
    return {
      layer: l,
      head: h,
      previousToken: previousTokenScore(attention, offset, T),
      firstToken: firstTokenScore(attention, offset, T),
      sameToken: meanWeightOnKeys(attention, offset, T, same),
      induction: meanWeightOnKeys(attention, offset, T, induction),
      entropy: withEntropy ? meanRowEntropy(attention, offset, T) : NaN,
    };
  };
}
