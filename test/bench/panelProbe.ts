// Runs inside the panel page (installed with page.addInitScript, after the fake VS Code API): times
// what the user waits for, at microtask precision, with no sleeps. A measurement arms a condition,
// then something starts it (a host message posted here, a key press, a pointer entering a chip); it
// ends when the condition holds after a forced style and layout pass (so building and laying out
// DOM counts, rasterising the frame does not).
//
// Conditions are read from the page's public surface only: the heatmap canvas's data-painted key,
// token chips (.token[data-index], .active), and the messages the page posts to the host.

export interface ProbeWindow {
  __benchArm(condition: ProbeCondition, startOn: 'post' | 'keydown' | 'pointerover', timeoutMs: number): void;
  __benchPost(message: unknown): void;
  __benchResult(): Promise<number>;
  /** Host messages delivered since the last measurement started: type and ms after its start. */
  __benchTimeline(): { type: string; ms: number }[];
  /** binaries: marker id -> its bytes as base64. */
  __benchDeliver(json: string, binaries: Record<string, string>): void;
}

export type ProbeCondition =
  /** The heatmap painted since the last session arrived, and the strip has a chip with index `chip`. */
  | { kind: 'firstPaint'; chip: number }
  | { kind: 'paintedOther'; previous: string }
  | { kind: 'hovered'; token: number };

/** Installed into the page as a function's source: everything it needs is inside it. streamUrl: the host's message stream (PageChannel). */
export function installProbe(streamUrl: string): void {
  const page = window as unknown as ProbeWindow & { acquireVsCodeApi(): { postMessage(message: unknown): void } };
  const posted: { type?: string; token?: unknown }[] = [];
  // Wrap the fake API so the probe sees what the page tells the host.
  const acquire = page.acquireVsCodeApi;
  page.acquireVsCodeApi = () => {
    const api = acquire();
    const send = api.postMessage.bind(api);
    api.postMessage = (message: unknown) => {
      posted.push(message as { type?: string });
      send(message);
      check();
    };
    return api;
  };

  let armed: { condition: ProbeCondition; startOn: string; start?: number; resolve(ms: number): void; reject(error: Error): void; timer: number; postedFrom: number } | undefined;
  let result: Promise<number> = Promise.reject(new Error('nothing measured'));
  result.catch(() => undefined);

  const holds = (condition: ProbeCondition, postedFrom: number): boolean => {
    const canvas = document.querySelector<HTMLCanvasElement>('canvas.heatmap-matrix');
    switch (condition.kind) {
      case 'firstPaint':
        return paintedSinceSession && !!canvas?.dataset.painted && document.querySelector(`.token[data-index="${condition.chip}"]`) !== null;
      case 'paintedOther':
        return !!canvas?.dataset.painted && canvas.dataset.painted !== condition.previous;
      case 'hovered':
        return document.querySelector(`.token.active[data-index="${condition.token}"]`) !== null &&
          posted.slice(postedFrom).some((message) => message.type === 'tokenFocus' && message.token === condition.token);
    }
  };

  const check = () => {
    if (!armed || armed.start === undefined || !holds(armed.condition, armed.postedFrom)) return;
    void document.body.getBoundingClientRect(); // style and layout of what changed
    const end = performance.now();
    const done = armed;
    armed = undefined;
    window.clearTimeout(done.timer);
    done.resolve(end - done.start!);
  };
  let paintedSinceSession = false;
  new MutationObserver((records) => {
    for (const record of records) {
      const target = record.target as HTMLElement;
      if (record.attributeName === 'data-painted' && target.matches('canvas.heatmap-matrix') && target.dataset.painted) paintedSinceSession = true;
    }
    check();
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-painted', 'class'] });

  const started = (event: Event) => {
    if (!armed || armed.start !== undefined || armed.startOn !== event.type) return;
    if (armed.condition.kind === 'hovered') {
      const chip = (event.target as Element | null)?.closest?.('.token[data-index]');
      if (!chip || (chip as HTMLElement).dataset.index !== String(armed.condition.token)) return;
    }
    armed.start = performance.now();
  };
  window.addEventListener('keydown', started, true);
  window.addEventListener('pointerover', started, true);

  page.__benchArm = (condition, startOn, timeoutMs) => {
    result = new Promise<number>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        armed = undefined;
        reject(new Error(`the panel did not reach ${JSON.stringify(condition)} within ${timeoutMs} ms`));
      }, timeoutMs);
      armed = { condition, startOn, resolve, reject, timer, postedFrom: posted.length };
    });
    result.catch(() => undefined);
  };
  page.__benchResult = () => result;
  let timeline: { type: string; ms: number }[] = [];
  let timelineStart = 0;
  page.__benchTimeline = () => timeline;
  page.__benchPost = (message) => {
    if (armed && armed.startOn === 'post' && armed.start === undefined) {
      armed.start = timelineStart = performance.now();
      timeline = [];
    }
    timeline.push({ type: String((message as { type?: string }).type), ms: Math.round(performance.now() - timelineStart) });
    if ((message as { type?: string }).type === 'session') paintedSinceSession = false;
    window.postMessage(message, '*');
  };
  // Host messages, one event each, in order; their ArrayBuffers come base64 in the same event.
  page.__benchDeliver = (json, binaries) => {
    const bytes = Uint8Array as unknown as { fromBase64(text: string): Uint8Array };
    const message = JSON.parse(json, (_key, value: unknown) => {
      const marker = value as { __benchBinary?: string; view?: string } | null;
      if (marker && typeof marker === 'object' && typeof marker.__benchBinary === 'string') {
        const buffer = bytes.fromBase64(binaries[marker.__benchBinary]).buffer as ArrayBuffer;
        if (marker.view === 'ArrayBuffer') return buffer;
        const View = (globalThis as unknown as Record<string, new (buffer: ArrayBuffer) => unknown>)[marker.view ?? 'Uint8Array'];
        return new View(buffer);
      }
      return value;
    }) as unknown;
    page.__benchPost(message);
  };
  const stream = new EventSource(streamUrl);
  stream.onmessage = (event: MessageEvent<string>) => {
    const { json, binaries } = JSON.parse(event.data) as { json: string; binaries: Record<string, string> };
    page.__benchDeliver(json, binaries);
  };
}
