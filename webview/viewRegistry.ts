// The views the panel hosts, in the order they appear in its views area.
//
// Adding a view is one new file plus one line here:
//   1. webview/myView.ts: `export class MyView implements PanelView { readonly id = 'my'; readonly element = el('section', 'my-section'); constructor(setup: ViewSetup) {…} update(context: ViewContext) {…} }`
//   2. below: `{ id: 'my', create: (setup) => new MyView(setup) },`
//
// A view is created once, with a ViewSetup (the theme at start, and actions: hover(token),
// togglePin(token), the same as a click in the token strips, and selectHead(layer, head), the same as
// picking a head in the side panel). After that, whenever there is a
// session, update(context) receives a ViewContext (view.ts) saying what changed (context.change:
// session, group, view, focus, arrived, theme, colorScale, resize) and everything to draw from:
// the session, the current group, the view state (group, layer, head, pinned, preview), the active
// token and its attended keys, the token texts, the theme, the colour scale, the attention store
// (cachedHead/cachedRows read what has arrived; requestHead/requestRows ask the host once, and an
// `arrived` change follows when the reply is in), and host: post(message) for any message and
// request(message) → Promise of the typed reply (requests.ts: deduplicated, older sessions dropped).

import { AggregateView } from './aggregateView';
import { CompareView } from './compareView';
import { HeatmapView } from './heatmapView';
import { LinksView } from './linksView';
import { ModelView } from './modelView';
import { RunCompareView } from './runCompareView';
import { StepsView } from './stepsView';
import { UnitsView } from './unitsView';
import type { ViewRegistration } from './view';

export const VIEW_REGISTRY: readonly ViewRegistration[] = [
  { id: 'units', create: (setup) => new UnitsView(setup) },
  { id: 'heatmap', create: (setup) => new HeatmapView(setup) },
  { id: 'links', create: (setup) => new LinksView(setup) },
  { id: 'aggregate', create: (setup) => new AggregateView(setup) },
  { id: 'model', create: (setup) => new ModelView(setup) },
  { id: 'steps', create: (setup) => new StepsView(setup) },
  { id: 'compare', create: (setup) => new CompareView(setup) },
  { id: 'runCompare', create: (setup) => new RunCompareView(setup) },
];
