/** Perfusion concepts get a Gate bias slider (0.4–1.0, its help beside it); other concepts none. */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { ConceptSummary } from '../library/concept-record';
import { ConceptChips } from './composer/ConceptChips';

const summary = (s: Partial<ConceptSummary>): ConceptSummary => ({
  id: 'c1', token: '<pf>', classWord: 'cat', kind: 'object', origin: 'trained', baseModel: '', created: 1, steps: 3, loraStrength: 1,
  embeddingVectors: 1, loraLayers: 0, photoCount: 0, cover: null, bytes: 0, ...s,
});
const chips = (c: ConceptSummary) => renderToStaticMarkup(createElement(ConceptChips, { used: [c], strengths: {}, onStrength: () => {} }));

describe('the gate bias slider', () => {
  it("shows a Perfusion concept's stored bias on a 0.4–1.0 range with its help", () => {
    const html = chips(summary({ method: 'perfusion', gateBias: 0.85 }));
    const slider = /<input[^>]*aria-label="Gate bias of &lt;pf&gt;"[^>]*>/.exec(html)?.[0] ?? '';
    expect(slider).toMatch(/min="0.4"/);
    expect(slider).toMatch(/max="1"/);
    expect(slider).toMatch(/step="0.05"/);
    expect(slider).toMatch(/value="0.85"/);
    expect(slider).toMatch(/aria-describedby="gate-bias-help-c1"/);
    expect(html).toContain('Gate bias 0.85');
    expect(html).toContain('id="gate-bias-help-c1">Lower follows the concept more; higher follows the prompt more.');
  });

  it('reads 0.70 when the summary has none, and is not offered for other methods', () => {
    expect(chips(summary({ method: 'perfusion' }))).toMatch(/aria-label="Gate bias of &lt;pf&gt;"[^>]*value="0.7"|value="0.7"[^>]*aria-label="Gate bias/);
    for (const method of ['ti', 'pplus', 'lora'] as const) expect(chips(summary({ method }))).not.toContain('Gate bias');
  });
});
