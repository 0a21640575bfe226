// Errors cross the process boundary as plain data and are rebuilt as the same classes on the
// other side: the extension tells a TooManyTokensError (offer to cut) from a ModelLoadError (show
// the message) from a bug (show the stack) with instanceof, so the class must survive the trip.
import { AttentionInspectorError, CancelledError, InputError, MemoryBudgetError, ModelLoadError, TooManyTokensError } from '../../errors';
import type { SerializedError } from './workerProtocol';

/** Worker side: the nearest known class, the message and any extra own fields that can be cloned. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { kind: 'Error', name: 'Error', message: String(error), fields: {} };
  return { kind: kindOf(error), name: error.name, message: error.message, stack: error.stack, fields: cloneableFields(error) };
}

// Most specific first: TooManyTokensError is also an InputError, everything an AttentionInspectorError.
function kindOf(error: Error): SerializedError['kind'] {
  if (error instanceof MemoryBudgetError) return 'MemoryBudgetError';
  if (error instanceof TooManyTokensError) return 'TooManyTokensError';
  if (error instanceof CancelledError) return 'CancelledError';
  if (error instanceof ModelLoadError) return 'ModelLoadError';
  if (error instanceof InputError) return 'InputError';
  if (error instanceof AttentionInspectorError) return 'AttentionInspectorError';
  // A query out of range (a layer, head or token the run does not have): the caller's mistake, not a bug.
  if (error instanceof RangeError) return 'RangeError';
  return 'Error';
}

function cloneableFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack') continue;
    try {
      fields[key] = structuredClone(value);
    } catch {
      // Functions, handles and the like stay behind; the message still says what happened.
    }
  }
  return fields;
}

/** Parent side: the same class with the same message, name and fields. */
export function reviveError(serialized: SerializedError): Error {
  const { kind, message, fields } = serialized;
  let error: Error;
  switch (kind) {
    case 'MemoryBudgetError':
      error = new MemoryBudgetError(Number(fields.tokenCount), Number(fields.maxTokens), Number(fields.estimateBytes), Number(fields.budgetBytes), fields.atLeast === true);
      break;
    case 'TooManyTokensError':
      error = new TooManyTokensError(Number(fields.tokenCount), Number(fields.maxTokens), fields.atLeast === true);
      break;
    case 'CancelledError':
      error = new CancelledError();
      break;
    case 'ModelLoadError':
      error = new ModelLoadError(message);
      break;
    case 'InputError':
      error = new InputError(message);
      break;
    case 'AttentionInspectorError':
      error = new AttentionInspectorError(message);
      break;
    case 'RangeError':
      error = new RangeError(message);
      break;
    case 'Error':
      error = new Error(message);
      // A bug in the worker: keep its own stack, which is the one worth reading.
      if (serialized.stack) error.stack = `${serialized.stack}\n    (in the onnxruntime worker process)`;
      break;
  }
  Object.assign(error, fields);
  // A subclass the parent does not know (say a future FusedAttentionError) keeps its name at least.
  error.name = serialized.name;
  if (error.message !== message) error.message = message;
  return error;
}
