// Head roles as the panel shows them: each score's short tag, its localised name and one-line
// explanation (the same as ROLE_EXPLANATIONS in src/core/analysis/headRoles.ts, which the webview may
// not import), a head's strongest role, the text that reads out every score, and the order of
// heads by a chosen score. The scores come from the host (requestRoles → roles).

import type { HeadRole, HeadRoleScores } from '../src/shared/protocol';
import { strongestRole } from '../src/shared/strongestRole';
import { t } from './l10n';

export { strongestRole };

/** The roles in the order the panel lists them. */
export const HEAD_ROLES: readonly HeadRole[] = ['previousToken', 'firstToken', 'sameToken', 'induction', 'entropy'];

/** The short tag of a badge ("prev 0.98"). */
export function roleTag(role: HeadRole): string {
  switch (role) {
    case 'previousToken':
      return t('prev');
    case 'firstToken':
      return t('first');
    case 'sameToken':
      return t('same');
    case 'induction':
      return t('induct');
    case 'entropy':
      return t('entropy');
  }
}

/** The score's name in a sentence or a select. */
export function roleName(role: HeadRole): string {
  switch (role) {
    case 'previousToken':
      return t('previous token');
    case 'firstToken':
      return t('first token (sink)');
    case 'sameToken':
      return t('same token');
    case 'induction':
      return t('induction');
    case 'entropy':
      return t('entropy');
  }
}

/** One line per score, for the legend. */
export function roleExplanation(role: HeadRole): string {
  switch (role) {
    case 'previousToken':
      return t('Previous token: mean weight each token puts on the token just before it (1 = always looks one back).');
    case 'firstToken':
      return t('First token (sink): mean weight on the first token, where heads park attention they do not need.');
    case 'sameToken':
      return t('Same token: mean weight a repeated token puts on its earlier occurrences (only over tokens that repeat).');
    case 'induction':
      return t('Induction: mean weight a repeated token puts on the token that followed its earlier occurrence ("A B … A → B"); only where the text repeats.');
    case 'entropy':
      return t('Entropy: how spread out each row is, in nats (0 = one token; ln n = uniform over n tokens).');
  }
}

/** A score as shown: two decimals, or a dash where the text has no repeats to score on. */
export function formatScore(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '—' : value.toFixed(2);
}

/** The badge of a head: its strongest role, or the chosen one ("prev 0.98"). */
export function roleBadge(scores: HeadRoleScores, role?: HeadRole): string {
  const shown = role ?? strongestRole(scores).role;
  return `${roleTag(shown)} ${formatScore(scores[shown])}`;
}

/** Every score of a head in one line, for its aria-label and title. */
export function rolesText(scores: HeadRoleScores): string {
  return HEAD_ROLES.map((role) => `${roleName(role)} ${formatScore(scores[role])}`).join(', ');
}

/** Heads (indices into roles) by the chosen score, highest first; heads without that score (null) last. */
export function headsByRole(roles: readonly HeadRoleScores[], role: HeadRole): number[] {
  const value = (index: number) => roles[index][role] ?? -Infinity;
  return roles.map((_, index) => index).sort((a, b) => value(b) - value(a) || a - b);
}
