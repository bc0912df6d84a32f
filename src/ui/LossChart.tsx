/**
 * The training run's live loss chart (uPlot): created once, then given each step's points from a
 * store subscription (at most once a frame), so a step redraws the chart and not the page. Its
 * point count is on `data-points` and its last and lowest loss are in words below it.
 */
import { memo, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { trainsLora, type TrainerOptions } from '../train/config';
import { lossPlotData, lossPlotOptions } from './loss-plot';
import { lossSummary } from './loss-summary';
import { useStudio } from './store';

const HEIGHT = 220;

export const LossChart = memo(function LossChart({ method }: { method: TrainerOptions['method'] }) {
  const figure = useRef<HTMLElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const summary = useRef<HTMLElement>(null);

  useEffect(() => {
    const el = host.current!;
    const rateLabel = trainsLora(method) ? 'learning rate (LoRA)' : 'learning rate (embedding)';
    const plot = new uPlot(lossPlotOptions(el, { width: Math.max(240, el.clientWidth), height: HEIGHT, compact: false, rateLabel }), lossPlotData(null, false), el);
    let frame = 0;
    const draw = () => {
      frame = 0;
      const losses = useStudio.getState().losses;
      plot.setData(lossPlotData(losses, false));
      figure.current!.dataset.points = String(losses?.steps.length ?? 0);
      summary.current!.textContent = lossSummary(losses);
    };
    draw();
    const unsubscribe = useStudio.subscribe((s, before) => {
      if (s.losses !== before.losses && frame === 0) frame = requestAnimationFrame(draw);
    });
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
      resize.disconnect();
      plot.destroy();
    };
  }, [method]);

  return (
    <figure className="loss-chart" data-testid="loss-chart" ref={figure}>
      <div ref={host} role="img" aria-label="Training loss against step: the loss, the smoothed loss, and the learning rate on the right-hand axis" />
      <figcaption ref={summary} />
    </figure>
  );
});
