import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';

/** One line of the chart: a label and one value per day (null: nothing that day). */
export interface Series {
  label: string;
  values: number[];
}

// Distinguishable in light and dark, and for the common colour-vision deficiencies (Okabe–Ito).
const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442'];

/** The chart drawn in each container (yours, the organisation's), resized with the window. */
const charts = new Map<HTMLElement, uPlot>();
/** The room inside the chart's frame (the figure's content box), never less than 240 px. */
function widthOf(container: HTMLElement): number {
  const frame = container.firstElementChild ?? container;
  const style = getComputedStyle(frame);
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return Math.max(Math.floor(frame.clientWidth - padding), 240);
}

const cssVar = (name: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * A daily line chart with uPlot (canvas: nothing inline for the CSP to refuse). The canvas has a
 * text summary for screen readers; the table next to it holds the same numbers.
 */
export function drawChart(
  container: HTMLElement,
  days: number[],
  series: Series[],
  unit: { name: string; format: (n: number) => string },
  summary: string,
): void {
  charts.get(container)?.destroy();
  if (!charts.size)
    addEventListener('resize', () => {
      for (const [c, chart] of charts) chart.setSize({ width: widthOf(c), height: 260 });
    });
  const fg = cssVar('--fg');
  const line = cssVar('--line');
  const axis = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
  const figure = h('figure', { class: 'chart', role: 'img', 'aria-label': summary });
  container.replaceChildren(figure);
  const chart = new uPlot(
    {
      width: widthOf(container),
      height: 260,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] } },
      axes: [
        { ...axis },
        { ...axis, size: 64, values: (_u, ticks) => ticks.map((v) => unit.format(v)) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
          points: { show: days.length <= 31 },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : unit.format(v)),
        })),
      ],
    },
    [days, ...series.map((s) => s.values)],
    figure,
  );
  // The legend is a key to the picture (the figure's label says it all), not a data table.
  figure.querySelector('.u-legend')?.setAttribute('role', 'presentation');
  charts.set(container, chart);
}
