/**
 * The size check on the page, before a job starts (`model/size-cost.ts`, the numbers the engine
 * refuses by): a warning above twice the model's native size, a refusal the adapter cannot hold.
 */
import { checkImageSize, type SizeRequest, type SizeVerdict } from '../model/size-cost';
import { useStudio } from './store';

/** The verdict on `request` for the loaded model on the connected GPU; null without either. */
export function useSizeVerdict(request: SizeRequest): SizeVerdict | null {
  const model = useStudio((s) => s.model);
  const engine = useStudio((s) => s.engine);
  if (!model || engine.state !== 'ready') return null;
  return checkImageSize(model.sizes, request, engine.capabilities.limits);
}

export function SizeNote({ verdict }: { verdict: SizeVerdict | null }) {
  if (verdict?.kind === 'warn') {
    return (
      <p role="status" className="warning" data-testid="size-note">
        {verdict.message} Cancel stops it within a step.
      </p>
    );
  }
  if (verdict?.kind === 'refuse') {
    return (
      <p role="alert" className="error" data-testid="size-note">
        {verdict.message}
      </p>
    );
  }
  return null;
}
