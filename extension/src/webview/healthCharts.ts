/// <reference lib="dom" />
import { healthText, sparklinePath, unhealthy, type Chart } from '../model/health';
import type { ToWebview } from './messages';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 180;
const HEIGHT = 36;

/**
 * The Launchboard's "App health" section: four small inline-SVG sparklines (no chart library, nothing loaded
 * from outside the webview), each with its words beside it, and the app's health state as text.
 */
export function renderHealth(section: HTMLElement, m: Extract<ToWebview, { type: 'health' }> | undefined): void {
  section.hidden = !m;
  if (!m) {
    section.replaceChildren();
    return;
  }
  section.dataset.app = m.app;
  section.dataset.state = m.health.state;
  const sick = unhealthy(m.health);
  const heading = document.createElement('h2');
  heading.textContent = `App health · ${m.app} · last hour`;
  const state = document.createElement('p');
  state.id = 'health-state';
  state.className = sick ? 'error' : 'hint';
  state.textContent = sick ? `⚠ The live app is ${healthText(sick)}` : `State: ${m.health.state}`;
  const grid = document.createElement('div');
  grid.className = 'charts';
  grid.append(...m.charts.map(chartFigure));
  section.replaceChildren(heading, state, grid);
}

function chartFigure(chart: Chart): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.dataset.chart = chart.id;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('width', String(WIDTH));
  svg.setAttribute('height', String(HEIGHT));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${chart.title}: ${chart.summary}`);
  // The first series (2xx) is drawn last, so a flat zero line reads as the healthy colour, not as errors.
  for (const series of [...chart.series].reverse()) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', sparklinePath(series.values, chart.max, WIDTH, HEIGHT));
    path.setAttribute('class', `series s-${series.key}`);
    path.dataset.series = series.key;
    svg.append(path);
  }
  const caption = document.createElement('figcaption');
  const title = document.createElement('strong');
  title.textContent = chart.title;
  caption.append(title, ` ${chart.summary}`);
  if (chart.series.length > 1)
    for (const s of chart.series) {
      const key = document.createElement('span');
      key.className = `legend s-${s.key}`;
      key.textContent = ` ■ ${s.label}`;
      caption.append(key);
    }
  figure.append(svg, caption);
  return figure;
}
