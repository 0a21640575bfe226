// What each token stands for in plain text, for aligning tokens that are not an exact spelling of
// the input: markers undone ('##ing' -> 'ing', '▁the' -> ' the', 'low</w>' -> 'low') and bytes
// decoded (byte-level symbols, SentencePiece byte fallback '<0xE6>').
import { decodeUtf8At, symbolToByte } from './byteLevel';

export interface SurfaceRules {
  /** Vocabulary strings spell bytes through GPT-2's alphabet. */
  byteLevel: boolean;
  /** The character that stands for a space (Metaspace '▁'), or null. */
  spaceMarker: string | null;
  /** Marker in front of word-internal pieces (WordPiece '##'), or null. */
  continuingPrefix: string | null;
  /** Markers at the end of pieces (BPE end_of_word_suffix '</w>', continuing_subword_suffix). */
  suffixes: readonly string[];
  /** The unknown token, whose surface is unknown. */
  unkToken: string | null;
  /** Contents of added tokens: they stand for themselves. */
  addedTokens: ReadonlySet<string>;
}

const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * Surface text per token ([N]); null for an unknown token. Runs of byte tokens are decoded together
 * and each decoded character goes to the token holding its first byte (the rest get ''), the same
 * rule as the exact byte-level alignment.
 */
export function tokenSurfaces(tokens: readonly string[], rules: SurfaceRules): (string | null)[] {
  const surfaces: (string | null)[] = new Array(tokens.length).fill('');
  const runBytes: number[] = [];
  const runOwners: number[] = [];
  const sequenceLength = new Int32Array(1);

  const flushRun = (): void => {
    for (let at = 0; at < runBytes.length; ) {
      const codePoint = decodeUtf8At(runBytes, at, runBytes.length, sequenceLength);
      surfaces[runOwners[at]] += codePoint < 0 ? '\ufffd' : String.fromCodePoint(codePoint);
      at += sequenceLength[0];
    }
    runBytes.length = 0;
    runOwners.length = 0;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === rules.unkToken) {
      flushRun();
      surfaces[i] = null;
      continue;
    }
    if (rules.addedTokens.has(token)) {
      flushRun();
      surfaces[i] = token;
      continue;
    }
    if (rules.byteLevel && appendByteLevelToken(token, i, runBytes, runOwners)) continue;
    const fallback = BYTE_FALLBACK.exec(token);
    if (fallback) {
      runBytes.push(parseInt(fallback[1], 16));
      runOwners.push(i);
      continue;
    }
    flushRun();
    surfaces[i] = undoMarkers(token, rules);
  }
  flushRun();
  return surfaces;
}

/** Appends the bytes a byte-level token spells; false (and nothing appended) if it is not one. */
function appendByteLevelToken(token: string, owner: number, runBytes: number[], runOwners: number[]): boolean {
  for (let k = 0; k < token.length; k++) if (symbolToByte(token.charCodeAt(k)) < 0) return false;
  for (let k = 0; k < token.length; k++) {
    runBytes.push(symbolToByte(token.charCodeAt(k)));
    runOwners.push(owner);
  }
  return true;
}

function undoMarkers(token: string, rules: SurfaceRules): string {
  let surface = token;
  const prefix = rules.continuingPrefix;
  if (prefix && surface.length > prefix.length && surface.startsWith(prefix)) surface = surface.slice(prefix.length);
  for (const suffix of rules.suffixes) {
    if (surface.length > suffix.length && surface.endsWith(suffix)) surface = surface.slice(0, -suffix.length);
  }
  if (rules.spaceMarker) surface = surface.split(rules.spaceMarker).join(' ');
  return surface;
}
