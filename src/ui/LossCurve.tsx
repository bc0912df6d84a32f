/** A trained concept's loss curve, small (uPlot), for its library card. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LossCurve as Curve } from '../library/loss-curve';
import { lossPlotData, lossPlotOptions } from './loss-plot';
import { lossSummary } from './loss-summary';

const WIDTH = 240;
const HEIGHT = 80;

export function LossCurve({ curve, token }: { curve: Curve; token: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const plot = new uPlot(lossPlotOptions(host.current!, { width: WIDTH, height: HEIGHT, compact: true, rateLabel: '' }), lossPlotData(curve, true), host.current!);
    return () => plot.destroy();
  }, [curve]);
  const summary = lossSummary(curve);
  return (
    <figure className="loss-curve" data-testid="loss-curve" data-points={curve.steps.length}>
      <div ref={host} role="img" aria-label={`Training loss of ${token} against step. ${summary}`} />
      <figcaption>Training loss, {curve.steps.length} steps</figcaption>
    </figure>
  );
}
