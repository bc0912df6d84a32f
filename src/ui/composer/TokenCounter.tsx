import { useEffect, useState } from 'react';
import type { TokenCount } from '../../engine/protocol';
import type { ConceptSummary } from '../../library/concept-record';
import { engineClient } from '../store';

/** Waits this long after the last keystroke before asking the engine (it answers from its tokenizer). */
const SETTLE_MS = 200;

/** The prompt's tokens against the model's window, and what will be cut, before generating. */
export function TokenCounter({ prompt, used, modelId }: { prompt: string; used: readonly ConceptSummary[]; modelId: string }) {
  const [count, setCount] = useState<TokenCount | null>(null);
  const concepts = used.filter((c) => c.embeddingVectors > 0).map((c) => ({ token: c.token, nVectors: c.embeddingVectors }));
  const key = JSON.stringify(concepts);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      engineClient()
        ?.request('countTokens', { prompt, concepts })
        .then((c) => live && setCount(c))
        .catch(() => live && setCount(null));
    }, SETTLE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [prompt, key, modelId]);
  if (!count) return null;
  const over = count.droppedText !== '';
  return (
    <div className={over ? 'token-count warning' : 'token-count muted'} data-testid="token-count" aria-live="polite">
      {count.count} / {count.window} tokens
      {over && <> — cut from the end: “{count.droppedText}”</>}
    </div>
  );
}
