// The token strips of a run: the inspected text ("Source") and, for encoder–decoder models, the
// decoder's input ("Target", with the field to change it). Each strip says what it is to the current
// group: the queries (hover, focus and click pick a token there), the keys and values (attended
// tokens light up there), both, or neither. Events name the sequence they came from.

import type { TokenSequence } from '../src/core/types';
import type { GroupInfo, SessionInfo } from '../src/shared/protocol';
import { el } from './dom';
import { groupLabel, sequenceTitle } from './groups';
import { TargetInput } from './targetInput';
import { TokenStrip } from './tokenStrip';
import { t } from './l10n';

export interface TokenSequencesEvents {
  onHover(sequence: TokenSequence, token: number | null): void;
  onFocusChip(sequence: TokenSequence, token: number): void;
  onToggle(sequence: TokenSequence, token: number): void;
  onSubmitTarget(text: string | null): void;
}

type Role = 'queries' | 'keys' | 'both' | 'unused';

const ROLE_TEXT: Record<Role, () => string> = {
  queries: () => t('Q · hover a token'),
  keys: () => t('K/V'),
  both: () => t('Q and K/V'),
  unused: () => t('not read by this group'),
};

interface Block {
  element: HTMLElement;
  head: HTMLElement;
  role: HTMLElement;
  strip: TokenStrip;
}

export class TokenSequences {
  readonly element: HTMLElement;
  private readonly blocks: Record<TokenSequence, Block>;
  private readonly target: TargetInput;

  constructor(events: TokenSequencesEvents) {
    const block = (sequence: TokenSequence): Block => {
      const strip = new TokenStrip(sequence, {
        onHover: (token) => events.onHover(sequence, token),
        onFocusChip: (token) => events.onFocusChip(sequence, token),
        onToggle: (token) => events.onToggle(sequence, token),
      });
      const role = el('span', 'sequence-role');
      const head = el('div', 'sequence-head', undefined, el('h3', 'sequence-title', { id: `${sequence}-title` }, sequenceTitle(sequence)), role);
      const element = el('div', 'sequence-block', { 'data-sequence': sequence, role: 'group', 'aria-labelledby': `${sequence}-title` }, head, strip.element);
      return { element, head, role, strip };
    };
    this.blocks = { source: block('source'), target: block('target') };
    this.target = new TargetInput({ onSubmit: (text) => events.onSubmitTarget(text) });
    this.blocks.target.element.append(this.target.element);
    this.element = el('div', 'sequences', undefined, this.blocks.source.element, this.blocks.target.element);
  }

  strip(sequence: TokenSequence): TokenStrip {
    return this.blocks[sequence].strip;
  }

  /** A new run: the source tokens always; the target strip and field only when the run has a target. */
  setSession(session: SessionInfo): void {
    const target = session.target;
    this.blocks.source.strip.setTokens(session.tokens);
    this.blocks.target.strip.setTokens(target?.tokens ?? []);
    this.blocks.target.element.hidden = !target;
    // A single sequence needs no "Source" heading: it is simply the tokens.
    this.blocks.source.head.hidden = !target;
    this.element.classList.toggle('two-sequences', target !== undefined);
    if (target) this.target.setTarget(target.text, target.generated);
  }

  /** The theme (and with it the editor font) changed: the strips measure their chips again. */
  remeasure(): void {
    for (const sequence of ['source', 'target'] as const) this.blocks[sequence].strip.remeasure();
  }

  /** What each sequence is to `group`. */
  setGroup(group: GroupInfo): void {
    for (const sequence of ['source', 'target'] as const) {
      const isQuery = group.queries === sequence;
      const isKey = group.keys === sequence;
      const role: Role = isQuery && isKey ? 'both' : isQuery ? 'queries' : isKey ? 'keys' : 'unused';
      const { element, role: tag, strip } = this.blocks[sequence];
      element.dataset.role = role;
      tag.textContent = ROLE_TEXT[role]();
      strip.setRole(role, t('{0} tokens: {1} in {2}', sequenceTitle(sequence), ROLE_TEXT[role](), groupLabel(group)));
    }
  }
}
