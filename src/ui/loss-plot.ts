/**
 * uPlot for loss curves: the options of the live training chart and of the library card's small
 * one (raw and smoothed loss against step; the live one adds the learning rate on a right-hand
 * axis), in the page's theme colours, and a curve as uPlot's data (the arrays themselves, no copy).
 */
import type uPlot from 'uplot';
import type { LossCurve } from '../library/loss-curve';

export interface LossPlotLook {
  width: number;
  height: number;
  /** The card's sparkline: no learning rate, no legend, small axes. */
  compact: boolean;
  /** What the learning-rate series is called ("learning rate (LoRA)"). */
  rateLabel: string;
}

/** Whole-step tick spacings: 1, 2, 5, 10, 20, 50, … */
const STEP_TICKS = Array.from({ length: 21 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** The page's colour for a CSS variable, as canvas needs it. */
function themeColour(el: HTMLElement, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

export function lossPlotOptions(el: HTMLElement, look: LossPlotLook): uPlot.Options {
  const muted = themeColour(el, '--muted', '#6b6b76');
  const accent = themeColour(el, '--accent', '#5b4bd6');
  const grid = { stroke: themeColour(el, '--border', '#e2e2e8'), width: 1 };
  const font = look.compact ? '10px system-ui' : '12px system-ui';
  const axis = { stroke: muted, grid, ticks: grid, font, size: look.compact ? 30 : 50 };
  const series: uPlot.Series[] = [
    { label: 'step' },
    { label: 'loss', stroke: muted, width: 1, points: { show: false } },
    { label: 'smoothed loss', stroke: accent, width: 2, points: { show: false } },
  ];
  const axes: uPlot.Axis[] = [{ ...axis, incrs: STEP_TICKS, ...(!look.compact && { label: 'step' }) }, { ...axis, ...(!look.compact && { label: 'loss' }) }];
  if (!look.compact) {
    series.push({ label: look.rateLabel, stroke: '#c77d12', width: 1, dash: [6, 4], scale: 'lr', points: { show: false } });
    axes.push({ ...axis, size: 64, scale: 'lr', side: 1, label: 'learning rate', grid: { show: false }, values: (_u, ticks) => ticks.map((t) => t.toExponential(1)) });
  }
  return {
    width: look.width,
    height: look.height,
    scales: { x: { time: false } },
    series,
    axes,
    legend: { show: !look.compact, live: false },
    cursor: { show: !look.compact },
  };
}

/** The curve as the chart's data: step, loss, smoothed (and the learning rate). */
export function lossPlotData(curve: LossCurve | null, compact: boolean): uPlot.AlignedData {
  const c = curve ?? { steps: new Uint32Array(0), loss: new Float32Array(0), smoothed: new Float32Array(0), lr: new Float32Array(0) };
  return compact ? [c.steps, c.loss, c.smoothed] : [c.steps, c.loss, c.smoothed, c.lr];
}
