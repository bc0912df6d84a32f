import type { ConceptSummary } from '../../library/concept-record';
import { conceptKindLabel } from './concept-kind';
import { ConceptGateBias } from '../ConceptStrength';

interface Props {
  /** The library concepts this prompt uses. */
  used: readonly ConceptSummary[];
  strengths: Record<string, number>;
  onStrength: (id: string, value: number) => void;
}

/** The concepts in the prompt, each with its kind and, for a LoRA, this prompt's strength. */
export function ConceptChips({ used, strengths, onStrength }: Props) {
  if (used.length === 0) return null;
  return (
    <ul className="used-concepts" aria-label="Concepts in this prompt" data-testid="used-concepts">
      {used.map((c) => {
        const strength = strengths[c.id] ?? c.loraStrength;
        return (
          <li key={c.id} className="chip">
            <span className="token">{c.token}</span> <span className="muted">{conceptKindLabel(c)}</span>
            {c.loraLayers > 0 && (
              <label>
                strength {strength.toFixed(2)}
                <input type="range" min={0} max={1.5} step={0.05} value={strength} aria-label={`LoRA strength of ${c.token}`} onChange={(e) => onStrength(c.id, Number(e.target.value))} />
              </label>
            )}
            {c.method === 'perfusion' && <ConceptGateBias concept={c} />}
          </li>
        );
      })}
    </ul>
  );
}
